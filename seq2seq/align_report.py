"""``seq2seq-evaluate --align-test``: AER, precision and recall of every way to read word links from the model, on a
gold word-alignment set (PREFIX.zh, PREFIX.en, PREFIX.gold), in the model's direction; with ``--reverse-model``,
each direction's alignment head alone and every rule that combines the two."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence


def alignment_methods(translator) -> list:
    """The extraction methods ``--align-test`` compares: the model's alignment head (if any: read both ways,
    grown or intersected, and one way, the latter also with minimum weights 0.3, 0.4, 0.5 for a link), then
    every layer's head-averaged attention, unshifted, shifted, and shifted both ways (grow-diag)."""
    import dataclasses

    from .align import AlignMethod

    out = []
    if translator.config.alignment:
        head = translator.align_method
        out.append(head)
        # Links both ways, or one way with the least confident dropped: both trade recall for precision.
        variants = [dataclasses.replace(head, symmetrize=s, min_weight=0.0) for s in ("grow-diag", "intersection")]
        variants += [dataclasses.replace(head, symmetrize="", min_weight=w) for w in (0.0, 0.3, 0.4, 0.5)]
        out += [m for m in variants if m != head]
        other = dataclasses.replace(head, full_context=not head.full_context, label="", min_weight=0.0)
        out.append(other)  # the same head in the other pass (causal or full context)
        if head.null_to_eos:  # and without its "no link" reading
            out.append(dataclasses.replace(head, null_to_eos=False, label="", min_weight=0.0))
    for layer in range(translator.config.model.n_dec_layers):
        out += [
            AlignMethod(layer, None, False),
            AlignMethod(layer, None, True),
            AlignMethod(layer, None, True, symmetrize="grow-diag"),
        ]
    return out


def evaluate_alignment(translator, prefix: str, max_tokens: int = 6000, progress: bool = True) -> list[dict]:
    """AER/precision/recall of every method of :func:`alignment_methods` on the gold set ``prefix``, read in
    the model's direction."""
    from .aer import alignment_error_rate, read_gold_set
    from .bidirectional import transpose

    zh, en, gold = read_gold_set(prefix)
    # The gold links index (Chinese word, English word); an en-zh model reads the pair the other way and its links
    # are transposed before they are scored.
    reverse = translator.direction == "en-zh"
    pairs = (en, zh) if reverse else (zh, en)

    def scored(alignments, method) -> dict:
        links = [a.links_with(method) for a in alignments]
        return alignment_error_rate([transpose(x) for x in links] if reverse else links, gold).as_dict()

    kwargs = dict(pretokenized=True, max_tokens=max_tokens, progress=progress, skip_long=True)
    aligned = translator.align(*pairs, **kwargs)
    default = translator.align_method
    # English restored (seq2seq.truecase) where it is lower-cased or tokenized, as the aligner does by default;
    # the default method is also scored on the English as given.
    restored = sum(r is not None for r in translator.restore_english(en, [e.split() for e in en]))
    common = {"test_set": Path(prefix).name, "restored_pairs": restored, "pairs": len(en)}
    rows = [
        {
            **common,
            "method": m.name,
            "default": m == default,
            "english": "restored" if restored else "as given",
            **scored(aligned, m),
        }
        for m in alignment_methods(translator)
    ]
    if restored:
        given = translator.align(*pairs, restore_english=False, **kwargs)
        rows.append(
            {**common, "method": default.name, "default": False, "english": "as given", **scored(given, default)}
        )
    return rows


def evaluate_both_ways(translator, other, prefix: str, max_tokens: int = 6000) -> list[dict]:
    """``--align-test`` with ``--reverse-model``: AER of each model's alignment head alone and of every rule
    that combines the two (:func:`seq2seq.bidirectional.aer_both_ways`)."""
    from .aer import read_gold_set
    from .bidirectional import aer_both_ways

    zh_en, en_zh = (other, translator) if translator.direction == "en-zh" else (translator, other)
    en = read_gold_set(prefix)[1]
    # each model restores the English it reads where it can (its truecase.model), as align() does by default
    restored = any(r is not None for tr in (zh_en, en_zh) for r in tr.restore_english(en, [e.split() for e in en]))
    return [
        {"test_set": Path(prefix).name, "default": False, "english": "restored" if restored else "as given", **r}
        for r in aer_both_ways(zh_en, en_zh, prefix, max_tokens)
    ]


def alignment_default(translator) -> dict:
    """What ``--align-test`` (and ``seq2seq-align``) use by default: the method, and how the English is read."""
    english = (
        "restored where lower-cased or tokenized (the folder's truecase.model; off: seq2seq-align --no-restore-english)"
        if translator.codec.truecaser is not None
        else "as given (the model folder has no truecase.model)"
    )
    return {"method": translator.align_method.name, "english": english}


def format_alignment_table(rows: Sequence[dict], default: Optional[dict] = None) -> str:
    """The AER table (English "restored" or "as given", see :func:`evaluate_alignment`), then a line saying
    which method and reading of the English are the default (``default``: :func:`alignment_default`)."""
    width = max([66] + [len(r["method"]) + 10 for r in rows])
    head = f"{'test set':<12} {'method':<{width}} {'English':<9} {'AER':>6} {'P':>6} {'R':>6}"
    lines = [head, "-" * len(head)]
    lines += [
        f"{r['test_set']:<12} {r['method'] + (' (default)' if r['default'] else ''):<{width}} "
        f"{r.get('english', ''):<9} {100 * r['aer']:>6.1f} {100 * r['precision']:>6.1f} {100 * r['recall']:>6.1f}"
        for r in rows
    ]
    for name in dict.fromkeys(r["test_set"] for r in rows):
        r = next(r for r in rows if r["test_set"] == name)
        if "restored_pairs" in r:
            lines.append(f"{name}: English restored in {r['restored_pairs']} of {r['pairs']} pairs")
    if default is not None:
        lines.append(f"default: {default['method']}; English {default['english']}")
    return "\n".join(lines)
