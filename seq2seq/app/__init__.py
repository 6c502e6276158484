"""The web demo (``seq2seq-demo``, ``python app.py``), in two parts (docs/demo.md, "The code").

The core imports neither Gradio nor Plotly, so it can be tested and reused without them:
``inputs`` (what a person gives the demo, checked), ``predict`` (a page's translation: ``predict``,
``Prediction``), ``batching`` (requests that arrive together share a batch), ``explore`` (the one-sentence
tools), ``maps`` (the numbers behind the attention maps), ``attributions`` (the source check, attribution beside
attention, "why not"), ``layer_lens`` (the logit lens, layer by layer), ``labels`` (how pieces and languages are
shown), ``chips`` (the HTML under the maps), ``downloads`` (the views' files).

The face imports Gradio or Plotly at the top: ``figures``, ``search_figures`` and ``attribution_figures``
(Plotly), ``views`` (what the tabs share), ``tabs``, ``search_tabs`` and ``attribution_tabs`` (one builder per
view), ``api`` (the web API), ``layout`` (the page: ``build_demo``) and ``server`` (the command).
"""
