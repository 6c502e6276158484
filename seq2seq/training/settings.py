"""The training config, typed: one frozen dataclass per section, each setting with its default and its range.

    cfg = load_config("configs/zh-en.yaml", ["train.lr=3e-4"])   # seq2seq.training.config
    cfg.train.lr, cfg.alignment.head, [source.name for source in cfg.data.train]

A config is read once, where the command line is (:func:`~.config.load_config`): YAML stages, then
``section.key=value`` overrides, then :meth:`TrainConfig.from_dict` types every value and checks it against its
field (a key that is no field is an error that lists the valid keys, never a silently ignored setting), and
:meth:`TrainConfig.validate` checks the settings against each other.  The training code reads the typed object.
:meth:`TrainConfig.to_dict` is the plain form a run saves in its folders (config.json, ``extra.train_config``);
``from_dict`` reads it back on ``--resume``, where settings added since take their defaults.

``model`` is :class:`~seq2seq.model.ModelConfig` and ``data.clean`` :class:`~seq2seq.data.CleanConfig`; their
ranges are in :data:`BORROWED_RANGES`.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Literal, Mapping, Optional, Union

from ..align import READINGS, AlignMethod
from ..data import CleanConfig, expand_globs, source_name
from ..decoding import LENGTH_PENALTY_RANGE, MIN_BEAM
from ..direction import Direction
from ..model import ModelConfig
from ..model_dir import DECODING_DEFAULTS
from ..tokenizer import PAD_ID
from .alignment import resolve_layer
from .values import ConfigError, Range, convert, duration, parse_duration, setting


def _betas(name: str, value) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in value)
    ):
        raise ConfigError(f"{name} must be two numbers in [0, 1), e.g. [0.9, 0.98], got {value!r}")
    return float(value[0]), float(value[1])


def _direction(name: str, value) -> Direction:
    try:
        return Direction.parse(value)
    except ValueError:
        raise ConfigError(f"{name} must be zh-en or en-zh, not {value!r}") from None


@dataclass(frozen=True)
class Source:
    """One corpus of ``data.train`` or ``data.dev``: the mapping :func:`seq2seq.data.load_source` reads
    (``{src, tgt}``, ``{tsv}``, ``{jsonl}`` or ``{hub}``, with ``name``, ``limit``, ...), and what training reads
    from it: its ``weight`` (> 0; 2.5 = every pair twice and a random half once more) and its ``links`` file."""

    spec: dict

    @property
    def name(self) -> str:
        return source_name(self.spec)

    @property
    def weight(self) -> float:
        return float(self.spec.get("weight", 1.0))

    @property
    def links(self) -> Optional[str]:
        return self.spec.get("links") or None


def expand_group(spec: Mapping, direction: Direction) -> list[dict]:
    """A source group ``{dir, names, links, weights, ...}``: one source per name, ``{dir}/{name}.zh`` and
    ``.en`` (the source language's file is the source), with ``{links}/{name}.links`` when ``links`` names a
    folder, ``weights`` per name, and every other key as it is."""
    names, folder, weights = spec.get("names"), spec.get("dir"), spec.get("weights") or {}
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or not isinstance(folder, str):
        raise ConfigError(f"a source group is {{dir: folder, names: [name, ...]}}, got {dict(spec)!r}")
    if not isinstance(weights, Mapping) or set(weights) - set(names):
        raise ConfigError(f"weights of a source group are {{name: weight}} for names of its own, got {weights!r}")
    rest = {k: v for k, v in spec.items() if k not in ("dir", "names", "links", "weights")}
    out = []
    for name in names:
        one = {"name": name, "src": str(Path(folder) / f"{name}.{direction.source}")}
        one["tgt"] = str(Path(folder) / f"{name}.{direction.target}")
        if spec.get("links"):
            one["links"] = str(Path(spec["links"]) / f"{name}.links")
        one.update(rest)
        if name in weights:
            one["weight"] = weights[name]
        out.append(one)
    return out


def _sources(direction: Direction):
    """The parser of ``data.train`` / ``data.dev``: source groups and ``glob:`` sources expanded, weights checked."""

    def parse(name: str, specs) -> tuple[Source, ...]:
        if not isinstance(specs, list):
            raise ConfigError(f"{name} must be a list of sources, got {specs!r}")
        out = []
        for spec in specs:
            if not isinstance(spec, Mapping):
                raise ConfigError(f"{name}: a source is a mapping such as {{src: a.zh, tgt: a.en}}, got {spec!r}")
            out += expand_group(spec, direction) if "names" in spec else expand_globs([dict(spec)])
        for spec in out:
            if "weight" in spec:
                try:
                    convert(f"{name}: weight of {spec.get('name') or spec}", spec["weight"], float, Range(above=0))
                except ConfigError as e:
                    raise ConfigError(f"{e} (leave a source out of {name} to drop it)") from None
        return tuple(Source(spec) for spec in out)

    return parse


@dataclass(frozen=True)
class DataSettings:
    """``data``: the training corpora, the dev sets (BLEU at every evaluation) and the cleaning of training pairs."""

    train: tuple[Source, ...] = ()
    dev: tuple[Source, ...] = ()
    clean: CleanConfig = field(default_factory=CleanConfig)
    # pairs that carry placeholders (tokenizer.placeholders) are sampled this often, as a source's weight is:
    # 2.5 = every such pair twice, plus a random half of them once more; 0.5 = a random half of them
    placeholder_weight: float = setting(1.0, above=0.0)
    # the model's own hypotheses that broke the placeholder limits (scripts/placeholder_faults.py), pushed down by
    # unlikelihood at every step (train.faults_weight, train.faults_per_step; seq2seq.training.limits)
    faults: Optional[str] = None


@dataclass(frozen=True)
class TokenizerSettings:
    """``tokenizer``: sentencepiece models trained on the training pairs, or given (``src_model``/``tgt_model``)."""

    train: bool = True
    src_vocab_size: int = setting(8000, low=1)
    tgt_vocab_size: int = setting(8000, low=1)
    shared: bool = False
    t2s: bool = True  # Traditional -> Simplified on the Chinese side, whichever side that is
    src_model: Optional[str] = None
    tgt_model: Optional[str] = None
    # that many placeholder pieces are added to both tokenizers, and training pairs carry the spans they share
    # (names, numbers, URLs) as placeholders (seq2seq.placeholders); 0 = off
    placeholders: int = setting(0, low=0)


@dataclass(frozen=True)
class TrainSettings:
    """``train``: optimisation, budgets, logging and saving."""

    max_tokens: int = setting(4096, low=1)  # padded tokens per side per batch, per process
    accum_steps: int = setting(1, low=1)
    lr: float = setting(1e-3, above=0)  # peak learning rate, reached at the end of warmup
    warmup_steps: int = setting(4000, low=0)
    adam_betas: tuple[float, float] = setting((0.9, 0.98), parse=_betas)
    adam_eps: float = setting(1e-9, above=0)
    weight_decay: float = setting(0.0, low=0)
    label_smoothing: float = setting(0.1, low=0, below=1)
    # unlikelihood of breaking the placeholder limits on the training pairs (seq2seq.training.limits); 0 = off
    limits_weight: float = setting(0.0, low=0)
    faults_weight: float = setting(1.0, low=0)  # the same on data.faults
    faults_per_step: int = setting(32, low=1)  # data.faults rows each step
    clip_norm: float = setting(1.0, low=0)  # 0 = no clipping
    init_from: Optional[str] = None  # a model folder to start from (warm start; its tokenizers are used)
    save_minutes: float = setting(10.0, low=0)  # also save DIR/last every this many minutes (0 = only at save_every)
    max_steps: int = setting(0, low=0)  # 0 = no limit
    cooldown_steps: int = setting(0, low=0)  # the last this many steps before max_steps take the lr linearly to 0
    max_epochs: int = setting(0, low=0)  # 0 = no limit
    max_time: Union[str, float, None] = setting(None, parse=duration)  # e.g. "2h", "90m"; the whole run
    precision: Literal["bf16", "fp32"] = "bf16"  # bf16 autocast or fp32
    threads: int = setting(0, low=0)  # torch threads; 0 = all cores
    log_every: int = setting(50, low=1)
    eval_every: int = setting(1000, low=1)
    save_every: int = setting(0, low=0)  # 0 = at every evaluation
    patience: int = setting(0, low=0)  # stop after this many evaluations without a better dev BLEU; 0 = never
    keep_checkpoints: int = setting(5, low=0)  # weights kept in DIR/checkpoints for averaging
    pool_batches: int = setting(100, low=1)
    length_bucket: int = setting(4, low=1)  # batches group source lengths in buckets of this many pieces
    tensorboard: bool = False

    @property
    def max_seconds(self) -> Optional[float]:
        return parse_duration(self.max_time)


@dataclass(frozen=True)
class AlignmentSettings:
    """``alignment``: the alignment loss (Garg et al. 2019; :mod:`seq2seq.training.alignment`), off at weight 0.

    ``full_context``: the head learns (and links) in a second pass of its layer whose self-attention sees the whole
    target; false: in the ordinary causal pass, read one row later (Shift-Att).  ``null_to_eos``: target pieces the
    corpus alignment leaves unlinked learn to look at the source </s>, and a piece whose head looks there most
    links nothing."""

    weight: float = setting(0.0, low=0)  # λ
    layer: Optional[int] = setting(None)  # decoder layer, 0-based, negative from the end; None = the penultimate
    head: int = setting(0, low=0)
    full_context: bool = True
    null_to_eos: bool = True

    def trained_head(self, n_dec_layers: int) -> Optional[AlignMethod]:
        """The head this loss teaches, as the run's model folders name it (with the full reading,
        docs/alignment.md) and as the training step reads it; None when the loss is off."""
        if not self.weight:
            return None
        layer = resolve_layer(self.layer, n_dec_layers)
        how = dict(full_context=self.full_context, null_to_eos=self.null_to_eos, **READINGS["full"])
        return AlignMethod.trained_head(layer, self.head, shift=True, **how)


@dataclass(frozen=True)
class EvalSettings:
    """``eval``: the translations of the dev sets at every evaluation."""

    beam_size: int = setting(1, low=MIN_BEAM)  # 1 = greedy
    max_sentences: int = setting(0, low=0)  # the first this many of each dev set; 0 = all
    max_tokens: int = setting(6000, low=1)
    length_penalty: float = setting(1.0, *LENGTH_PENALTY_RANGE)


@dataclass(frozen=True)
class DecodingSettings:
    """``decoding``: the decoding defaults written into the model folder (``model_dir.DECODING_DEFAULTS``)."""

    beam_size: int = setting(DECODING_DEFAULTS["beam_size"], low=MIN_BEAM)
    length_penalty: float = setting(DECODING_DEFAULTS["length_penalty"], *LENGTH_PENALTY_RANGE)
    max_len_a: float = setting(DECODING_DEFAULTS["max_len_a"], low=0)  # max length = a * |source| + b
    max_len_b: int = setting(DECODING_DEFAULTS["max_len_b"], low=0)
    no_repeat_ngram: int = setting(DECODING_DEFAULTS["no_repeat_ngram"], low=0)


# The ranges of the settings whose dataclasses live with the code that uses them.
_SIZE, _FRACTION = Range(low=1), Range(low=0, below=1)
BORROWED_RANGES = {
    ModelConfig: dict(n_layers=_SIZE, n_dec_layers=_SIZE, d_model=_SIZE, n_heads=_SIZE, d_ff=_SIZE, max_len=_SIZE)
    | dict(dropout=_FRACTION, attention_dropout=_FRACTION),
    CleanConfig: dict(max_chars=_SIZE, min_ratio=Range(low=0), max_ratio=Range(above=0), ratio_min_chars=Range(low=0)),
}
# ModelConfig fields that are no settings: they come from the tokenizers.
NOT_SETTINGS = {"src_vocab_size", "tgt_vocab_size", "pad_id"}


@dataclass(frozen=True)
class TrainConfig:
    """A training run's settings, typed and checked (module doc)."""

    seed: int = 1
    direction: Direction = setting(Direction("zh", "en"), parse=_direction)  # data files keep their .zh/.en names
    data: DataSettings = field(default_factory=DataSettings)
    tokenizer: TokenizerSettings = field(default_factory=TokenizerSettings)
    model: ModelConfig = field(default_factory=ModelConfig)  # the architecture; vocabulary sizes: the tokenizers'
    train: TrainSettings = field(default_factory=TrainSettings)
    alignment: AlignmentSettings = field(default_factory=AlignmentSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)
    decoding: DecodingSettings = field(default_factory=DecodingSettings)

    @classmethod
    def from_dict(cls, raw: Mapping, where: str = "config") -> "TrainConfig":
        """Type and check a config given as YAML/JSON reads it; missing settings take their defaults."""
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: a config is a mapping of sections, not {type(raw).__name__}")
        check_keys(raw, where=where)
        top = _fields(cls, "", {k: v for k, v in raw.items() if k != "data"})
        direction = top.get("direction", cls.direction)
        parse = {split: _sources(direction) for split in ("train", "dev")}
        data = DataSettings(**_fields(DataSettings, "data.", raw.get("data") or {}, parse=parse))
        return cls(**top, data=data)

    def to_dict(self) -> dict:
        """The config as plain YAML/JSON values (what :meth:`from_dict` reads back)."""
        return _plain(self)

    def validate(self) -> None:
        """The checks across settings: the alignment head exists in the model, and a cooldown ends at a step limit."""
        mcfg, align, budget = self.model, self.alignment, self.train
        try:
            resolve_layer(align.layer, mcfg.n_dec_layers)
        except ValueError as e:
            raise ConfigError(f"alignment.layer: {e}") from None
        if not align.head < mcfg.n_heads:
            heads = mcfg.n_heads
            raise ConfigError(
                f"alignment.head={align.head} does not exist: the model has {heads} heads (0..{heads - 1})"
            )
        if budget.cooldown_steps and not budget.max_steps:
            raise ConfigError("train.cooldown_steps needs --max-steps (train.max_steps): the cooldown ends there")
        if budget.cooldown_steps > budget.max_steps:
            raise ConfigError(
                f"train.cooldown_steps={budget.cooldown_steps} is more than train.max_steps={budget.max_steps}"
            )
        if self.data.placeholder_weight != 1.0 and not self.tokenizer.placeholders:
            raise ConfigError(
                f"data.placeholder_weight={self.data.placeholder_weight:g} needs tokenizer.placeholders > 0 "
                "(no pair carries placeholders without them)"
            )
        if (self.train.limits_weight or self.data.faults) and not (self.tokenizer.placeholders or budget.init_from):
            raise ConfigError(
                "train.limits_weight and data.faults need placeholders (tokenizer.placeholders > 0, or a "
                "train.init_from model that has them)"
            )
        given = self.tokenizer.src_model and self.tokenizer.tgt_model
        if not self.tokenizer.train and not given and not budget.init_from:
            raise ConfigError("tokenizer.train is false but tokenizer.src_model/tgt_model are not both given")

    def model_config(self, src_vocab_size: int, tgt_vocab_size: int) -> ModelConfig:
        """The model to build: the ``model`` section with the tokenizers' vocabulary sizes."""
        return replace(self.model, src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size, pad_id=PAD_ID)


def valid_keys(path: tuple) -> Optional[set]:
    """The settings under ``path`` (a section, e.g. ``("data", "clean")``); None: any key (inside a data source)."""
    cls = TrainConfig
    for part in path:
        hint = typing.get_type_hints(cls).get(part)
        if not is_dataclass(hint) or hint is Direction:
            return None
        cls = hint
    return {f.name for f in fields(cls)} - (NOT_SETTINGS if cls is ModelConfig else set())


def check_keys(raw: Mapping, path: tuple = (), where: str = "config") -> None:
    """Raise :class:`ConfigError` for any key that is not a setting."""
    valid = valid_keys(path)
    if valid is None:
        return
    for key, value in raw.items():
        if key not in valid:
            name = ".".join(path + (str(key),))
            raise ConfigError(
                f"{where}: unknown setting {name!r}; valid keys under "
                f"{'.'.join(path) or 'the top level'}: {', '.join(sorted(valid))}"
            )
        if isinstance(value, Mapping):
            check_keys(value, path + (key,), where)


def _fields(cls, prefix: str, raw, parse: Optional[dict] = None) -> dict:
    """The settings of ``cls`` that ``raw`` gives, typed and checked; a nested section is built from its own."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'the config'} must be a mapping of settings, got {raw!r}")
    hints, borrowed = typing.get_type_hints(cls), BORROWED_RANGES.get(cls, {})
    out = {}
    for f in fields(cls):
        if f.name not in raw or f.name in NOT_SETTINGS and cls is ModelConfig:
            continue
        name, value, hint = prefix + f.name, raw[f.name], hints[f.name]
        if parse and f.name in parse:
            out[f.name] = parse[f.name](name, value)
        elif is_dataclass(hint) and hint is not Direction:
            out[f.name] = _section(hint, name, value)
        elif "parse" in f.metadata:
            out[f.name] = f.metadata["parse"](name, value)
        else:
            out[f.name] = convert(name, value, hint, f.metadata.get("range") or borrowed.get(f.name) or Range())
    return out


def _section(cls, name: str, raw):
    try:
        return cls(**_fields(cls, name + ".", raw))
    except (TypeError, ValueError) as e:  # what the dataclass itself checks (d_model / n_heads)
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"{name}: {e}") from None


def _plain(x):
    """Dataclasses as mappings, tuples as lists, a direction as its label, a source as its mapping."""
    if isinstance(x, Direction):
        return x.label
    if isinstance(x, Source):
        return dict(x.spec)
    if is_dataclass(x):
        skip = NOT_SETTINGS if isinstance(x, ModelConfig) else set()
        return {f.name: _plain(getattr(x, f.name)) for f in fields(x) if f.name not in skip}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x
