"""The demo's text views (escaped HTML): the caption naming a view's sentence, the coverage check, the link
chips under the map (hovering one highlights its cells), a user's translation scored piece by piece, and the
links as ``seq2seq-align`` writes them (each output word with the input words linked to it)."""

from __future__ import annotations

import html
from typing import Optional

import numpy as np

from ..align import DEFAULT_RAW, AlignMethod, method_attention, piece_alignment
from ..coverage import is_punctuation
from ..direction import LANGUAGE_NAMES
from ..words import word_spans
from .labels import FLAG_COLOUR, FONT, piece_text
from .maps import MapData, WordLinks, word_links
from .predict import Prediction

# Hovering a chip fills the outlined cells it names (Plotly draws shape k as a path with data-index k).
CHIP_JS = """
const paint = (chip, opacity) => {
  const box = chip && chip.closest('[data-plot]');
  const plot = box && document.querySelector('#' + box.dataset.plot + ' .js-plotly-plot');
  if (!plot) return;
  const ids = (chip.dataset.cells || '').split(' ').filter(Boolean);
  plot.querySelectorAll('.shapelayer path[data-index]').forEach(p => {
    if (ids.includes(p.getAttribute('data-index'))) {
      p.style.fill = 'rgb(249, 115, 22)';
      p.style.fillOpacity = opacity;
    }
  });
};
element.addEventListener('mouseover', e => paint(e.target.closest('[data-cells]'), '0.55'));
element.addEventListener('mouseout', e => paint(e.target.closest('[data-cells]'), '0'));
"""

_CHIP = "display:inline-block;margin:2px;padding:0 6px;border-radius:6px;"
_BADGE = "display:inline-block;white-space:nowrap;"  # a flagged word and its note stay on one line


def caption_html(pred: Prediction, index: int, what: str = "") -> str:
    """The line that names the sentence a view shows: "Sentence 2 of 3: 今天天气很好。 → The weather is good today."."""
    s = pred.sentence(index)
    k = pred.sentences.index(s)
    where = f"Sentence {k + 1} of {len(pred.sentences)}" if len(pred.sentences) > 1 else "Sentence"
    return (
        f'<div class="s2s-caption" style="font-family:{FONT}">{html.escape(what)}{where}: '
        f"<b>{html.escape(s.source)}</b> &rarr; <i>{html.escape(s.text)}</i></div>"
    )


def coverage_html(pred: Prediction, languages: Optional[tuple[str, str]] = None) -> str:
    """Under the translation: per sentence, the source words no output word links to ("not translated?") and the
    output words that link to nothing ("added?"), read from the alignment head; nothing without a head.  Words are
    named in ``languages`` (default: the prediction's)."""
    covs = [(s, s.translation.coverage if s.target_tokens else None) for s in pred.sentences]
    if not any(c is not None for _, c in covs):
        return ""
    src, tgt = (LANGUAGE_NAMES[x] for x in (languages or pred.languages))
    lines = []
    for k, (s, c) in enumerate(covs):
        if c is None:
            continue
        where = f"Sentence {k + 1}: " if len(pred.sentences) > 1 else ""
        words = []
        for i, w in enumerate(c.source_words):
            flag = i in c.unlinked_source
            words.append(
                f'<span class="s2s-word{" s2s-flag" if flag else ""}" style="{_flag_style(flag)}"'
                + (f' title="no {tgt} word links to it"' if flag else "")
                + f">{html.escape(w)}"
                + ("<sup>not translated?</sup>" if flag else "")
                + "</span>"
            )
        added = ", ".join(f"<b>{html.escape(c.target_words[j])}</b>" for j in c.unlinked_target)
        verdict = (
            f"{len(c.unlinked_source)} {src} word(s) no {tgt} word links to"
            if c.unlinked_source
            else f"every {src} word is linked"
        )
        lines.append(
            f"<p>{where}{' '.join(words)}<br><small>{verdict}"
            + (f"; added? {added} (linked to no {src} word)" if added else "")
            + ".</small></p>"
        )
    return (
        f'<div class="s2s-coverage" style="font-family:{FONT};line-height:1.9">'
        f"<b>Coverage check</b> <small>(from the alignment head's links; a question, not a verdict)</small>"
        + "".join(lines)
        + "</div>"
    )


def source_check_html(pred: Prediction, checks: list) -> str:
    """Under the translation, beside the coverage check: per sentence, the output words made mostly from the
    translation's own previous words rather than from the source ("not from the source?"; ``checks``:
    ``attributions.source_checks``), each word's share from the source in its tooltip."""
    src, tgt = (LANGUAGE_NAMES[x] for x in pred.languages)
    lines = []
    for k, c in enumerate(checks):
        if c is None:
            continue
        where = f"Sentence {k + 1}: " if len(pred.sentences) > 1 else ""
        words = []
        for j, (w, share) in enumerate(zip(c.words, c.shares)):
            flag = j in c.flagged
            words.append(
                f'<span class="s2s-word{" s2s-flag" if flag else ""}" style="{_flag_style(flag)}" '
                f'title="{share:.0%} of what made it came from the {src}">{html.escape(w)}'
                + ("<sup>not from the source?</sup>" if flag else "")
                + "</span>"
            )
        verdict = (
            f"{len(c.flagged)} {tgt} word(s) made mostly from the translation so far, not from the {src}"
            if c.flagged
            else f"every {tgt} word drew on the {src}"
        )
        lines.append(f"<p>{where}{' '.join(words)}<br><small>{verdict}.</small></p>")
    return (
        f'<div class="s2s-source-check" style="font-family:{FONT};line-height:1.9">'
        "<b>Source check</b> <small>(from attribution: what each word drew on; a question, not a verdict; "
        "hover a word for its share from the source)</small>" + "".join(lines) + "</div>"
    )


def attribution_summary_html(view, languages: tuple[str, str]) -> str:
    """Above the attribution beside attention maps (``view``: ``attributions.BesideAttention``): the sentence's
    agreement with the alignment head, and each output word's share from the source, the source check's words
    marked."""
    src, tgt = (LANGUAGE_NAMES[x] for x in languages)
    a = view.result
    if view.agreement is None:
        agree = "This model has no alignment head: there are no head links to compare with."
    else:
        n = len(a.head_links or [])
        agree = (
            f"<b>Agreement: {view.agreement:.0%}</b> of the alignment head's links ({round(view.agreement * n)} of "
            f"{n}) go to the {src} word with the largest attribution for their {tgt} word."
        )
    shares = []
    for j, w in enumerate(a.target_words):
        flag = j in view.check.flagged
        share = a.words.source_share[j]
        shares.append(
            f'<span style="{_flag_style(flag)}">{html.escape(w)} <small>{share:.0%}</small>'
            + ("<sup>not from the source?</sup>" if flag else "")
            + "</span>"
        )
    return (
        f'<div class="s2s-attribution" style="font-family:{FONT};line-height:1.9"><p>{agree}</p>'
        f"<p><small>Share of each {tgt} word that came from the {src} (this method):</small><br>"
        + " ".join(shares)
        + "</p></div>"
    )


def why_not_html(c) -> str:
    """The probabilities a contrast compares (``c``: ``attribution.ContrastiveAttribution``)."""
    chosen, other = (html.escape(piece_text(x).lstrip("·") or piece_text(x)) for x in (c.chosen, c.alternative))
    p, q = np.exp(c.chosen_logprob), np.exp(c.alternative_logprob)
    return (
        f'<div class="s2s-why-not" style="font-family:{FONT}"><p>The model gave <b>{chosen}</b> a probability of '
        f"{p:.3f} and <b>{other}</b> {q:.3g} at this place: log p({chosen}) − log p({other}) = "
        f"<b>{c.difference:.2f}</b>. The bars share that difference out over the words the model read.</p></div>"
    )


def _flag_style(flag: bool) -> str:
    """A flagged word: outlined, on one line with its note (a badge never breaks across lines)."""
    return f"{_BADGE}border:2px solid {FLAG_COLOUR};border-radius:5px;padding:0 3px;" if flag else "padding:0 2px;"


GAP = " … "  # between linked words that are not next to each other in their sentence (no text reads so)


def join_units(units: list[str], picked, lang: str, text: str = "", pieces: bool = False) -> str:
    """The units at indices ``picked`` as one label: units next to each other in their sentence are joined as
    ``text`` has them (Chinese with no separator, English with its space: 蒂姆·库克, "New York"), others with
    :data:`GAP` (``要 … 看望``).  ``pieces``: the units are sentencepiece pieces, joined as shown (``·New·York``)."""
    picked = sorted(set(picked))
    if not picked:
        return ""
    spans = word_spans(units, text) if text and not pieces else [None] * len(units)
    runs: list[list[int]] = [[picked[0]]]
    for k in picked[1:]:
        if k == runs[-1][-1] + 1:
            runs[-1].append(k)
        else:
            runs.append([k])

    def run_text(run: list[int]) -> str:
        if pieces:
            return "".join(piece_text(units[k]) for k in run)
        found = [spans[k] for k in run]
        if all(found) and all(found[i][1] <= found[i + 1][0] for i in range(len(found) - 1)):
            return text[found[0][0] : found[-1][1]]
        return ("" if lang == "zh" else " ").join(units[k] for k in run)

    return GAP.join(run_text(r) for r in runs)


def link_chips_html(m: MapData, plot: str = "align-map", text: str = "") -> str:
    """One chip per row unit of a map (punctuation left out): ``going → 要去``, the column units it links to
    joined by :func:`join_units` (``text``: the sentence the columns come from); ``data-cells`` names the outline
    shapes of its links in the map with element id ``plot``, which hovering fills (:data:`CHIP_JS`)."""
    chips = []
    for r, row in enumerate(m.rows):
        if is_punctuation(piece_text(row).strip("·")) or row == "</s>":
            continue
        shapes = [k for k, (rr, _) in enumerate(m.links) if rr == r]
        cols = [c for rr, c in m.links if rr == r and m.cols[c] != "</s>"]
        added = r in m.flagged_rows
        target = html.escape(join_units(m.cols, cols, m.languages[0], text, m.units == "pieces")) or "∅"
        chips.append(
            f'<span class="s2s-chip" data-cells="{" ".join(map(str, shapes))}" style="{_CHIP}'
            f"background:rgba(37,99,235,{0.3 if cols else 0.08});"
            + (f"border:2px dashed {FLAG_COLOUR};" if added else "")
            + f'">{html.escape(piece_text(row))} '
            f"&rarr; {target}" + (" <small>added?</small>" if added else "") + "</span>"
        )
    flagged = [m.cols[c] for c in m.flagged_cols]
    note = (
        (
            "<br><small>Not translated? "
            + " ".join(f'<span style="{_flag_style(True)}">{html.escape(c)}</span>' for c in flagged)
            + "</small>"
        )
        if flagged
        else ""
    )
    return (
        f'<div class="s2s-chips" data-plot="{plot}" style="font-family:{FONT};line-height:2.2">'
        f"{''.join(chips)}{note}</div>"
    )


def scored_pieces_html(scored) -> str:
    """The user's translation, each piece coloured by the model's probability for it (red: improbable)."""
    a = scored.alignment
    parts = ['<div class="s2s-score" style="font-family:' + FONT + ';line-height:2.2">']
    for piece, lp in zip(a.target_tokens, a.token_logprobs):
        p = float(np.exp(lp))
        parts.append(
            f'<span title="p = {p:.3f} (log-prob {lp:.2f})" style="display:inline-block;margin:1px;'
            f'padding:0 4px;border-radius:4px;background:rgba({int(220 * (1 - p))},{int(160 * p)},80,0.35)">'
            f"{html.escape(piece_text(piece))}</span>"
        )
    parts.append(
        f"<p>Yours: log-prob <b>{a.score:.2f}</b> (length-normalised {a.normalized_score:.3f}); "
        f"the model's own translation, <i>{html.escape(scored.model_text)}</i>: "
        f"<b>{scored.model_score:.2f}</b> ({scored.model_normalized:.3f}). "
        "Higher is more plausible to the model; pieces in red are where it disagrees.</p></div>"
    )
    return "".join(parts)


def word_alignment_html(pred: Prediction, method: Optional[AlignMethod] = None, sentence: Optional[int] = None) -> str:
    """The links as ``seq2seq-align`` reads them: each output word with the input words it is linked to, in the
    words of the map (:func:`~seq2seq.app.maps.word_links`), read with ``method`` (default: the prediction's,
    i.e. the model's alignment head if it has one, else the best raw rule), symmetrized as the method says.  One
    sentence, or all.  All text is escaped."""
    if not pred.sentences:
        return ""
    method = method or pred.align_method or DEFAULT_RAW
    parts = [f"<p><i>Links read from: {html.escape(method.name)}.</i></p>"]
    src_lang, tgt_lang = pred.languages
    for k, s in enumerate(pred.sentences):
        if not s.target_tokens or sentence is not None and k != sentence:
            continue
        t = s.translation if (method.layer, method.head, method.full_context) == _own(pred) else s.full
        att = method_attention(t, method)
        if att is None:
            continue
        w = word_links(s.translation, pred.align_method, pred.languages)
        links = {
            (a, b)
            for i, j in piece_alignment(t.source_tokens, t.target_tokens, att, method=method)
            for a in w.source_groups[i]
            for b in w.target_groups[j]
        }
        parts.append(links_listing_html(s.source, w.source_words, w.target_words, links, src_lang))
    return _align_div(parts)


def _own(pred: Prediction):
    m = pred.align_method
    return (m.layer, m.head, m.full_context) if m is not None else None


def links_listing_html(source: str, src_words, tgt_words, links, src_lang: str) -> str:
    """One sentence's links as chips: each output word -> the input words linked to it, joined as
    :func:`join_units` joins them (escaped)."""
    parts = [f"<p><b>{html.escape(source)}</b><br>"]
    for j, word in enumerate(tgt_words):
        linked = [i for i, jj in links if jj == j and i < len(src_words)]
        parts.append(
            '<span style="display:inline-block;margin:2px;padding:0 6px;border-radius:6px;'
            f'background:rgba(37,99,235,{0.45 if linked else 0.1})">{html.escape(word)} &rarr; '
            f"{html.escape(join_units(src_words, linked, src_lang, source)) or '∅'}</span>"
        )
    parts.append("</p>")
    return "".join(parts)


def in_units(alignment, words: WordLinks) -> list[tuple[int, int]]:
    """An ``Alignment``'s links (in its own words: Chinese characters) in the units of ``words`` (the same
    pieces, grouped as the map groups them)."""

    def regroup(old: list[list[int]], new: list[list[int]]) -> dict[int, set]:
        out: dict[int, set] = {}
        for o, n in zip(old, new):
            for k in o:
                out.setdefault(k, set()).update(n)
        return out

    src = regroup(alignment.source_piece_words, words.source_groups)
    tgt = regroup(alignment.target_piece_words, words.target_groups)
    return sorted({(a, b) for i, j in alignment.links for a in src.get(i, ()) for b in tgt.get(j, ())})


def both_ways_html(alignment, source: str, languages: tuple[str, str], method, seconds: float) -> str:
    """The links of :func:`seq2seq.bidirectional.align_both_ways` for one sentence, in the map's word units
    (``method``: the forward model's), with what read them."""
    w = word_links(alignment, method, languages)
    parts = [
        f"<p><i>Links read from: {html.escape(alignment.method)} ({seconds * 1000:.0f} ms for both passes).</i></p>",
        links_listing_html(source, w.source_words, w.target_words, in_units(alignment, w), languages[0]),
    ]
    return _align_div(parts)


def _align_div(parts: list[str]) -> str:
    return '<div class="s2s-align" style="font-family:' + FONT + ';line-height:2.2">' + "".join(parts) + "</div>"
