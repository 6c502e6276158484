"""The demo's text views (escaped HTML): the caption naming a view's sentence, the coverage check, the link
chips under the map (hovering one highlights its cells), and a user's translation scored piece by piece."""

from __future__ import annotations

import html
from typing import Optional

import numpy as np

from ..coverage import is_punctuation
from .figures import FLAG_COLOUR, FONT, piece_text
from .maps import MapData
from .predict import LANGUAGE_NAMES, Prediction

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


def _lang(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


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
    src, tgt = (_lang(x) for x in (languages or pred.languages))
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


def _flag_style(flag: bool) -> str:
    return f"border:2px solid {FLAG_COLOUR};border-radius:5px;padding:0 3px;" if flag else "padding:0 2px;"


def link_chips_html(m: MapData, plot: str = "align-map") -> str:
    """One chip per row unit of a map (punctuation left out): ``to → 要 · 去``, its column units kept apart;
    ``data-cells`` names the outline shapes of its links in the map with element id ``plot``, which hovering
    fills (:data:`CHIP_JS`)."""
    chips = []
    for r, row in enumerate(m.rows):
        if is_punctuation(piece_text(row).strip("·")) or row == "</s>":
            continue
        shapes = [k for k, (rr, _) in enumerate(m.links) if rr == r]
        cols = [m.cols[c] for rr, c in m.links if rr == r and m.cols[c] != "</s>"]
        added = r in m.flagged_rows
        target = " · ".join(html.escape(piece_text(c)) for c in cols) or "∅"
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
            + " · ".join(f'<span style="{_flag_style(True)}">{html.escape(c)}</span>' for c in flagged)
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
