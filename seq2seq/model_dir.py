"""The model folder: everything needed to translate, in one directory.

    model.safetensors   weights (fp32, or fp16/bf16 which are upcast to fp32 at load)
    config.json         {"direction": "zh-en", "model": ModelConfig, "tokenizer": {...}, "decoding": {...}, ...}
    source.model        sentencepiece model of the source language (Chinese for zh-en)
    target.model        sentencepiece model of the target language (a copy of source.model when it is shared)
    README.md           model card
    truecase.model      optional: the English truecasing model (seq2seq.truecase; scripts/train_truecaser.py)
    names.tsv           optional: the name lexicon (seq2seq.names; scripts/mine_names.py)
    known_words.txt     optional: the English names an en-zh model has learnt (seq2seq.known_words)
    ctranslate2/        optional: the CTranslate2 form of the weights, made when first needed (seq2seq.ct2_engine)

The optional files are one table, :data:`OPTIONAL_FILES`: saving, export, averaging and training runs carry
every file it names.

Loading names the file at fault when one is missing, truncated or corrupt.  Saving is atomic:
the folder is written beside the target and swapped in with renames, so an interrupted save
leaves either the old folder or the new one (see :func:`atomic_replace_dir`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .direction import Direction
from .known_words import KNOWN_WORDS_FILE, KnownWords
from .model import EncoderDecoder, ModelConfig
from .names import NAMES_FILE, NameLexicon
from .tokenizer import SubwordTokenizer
from .truecase import TRUECASE_FILE, Truecaser

WEIGHTS, CONFIG, SRC_SPM, TGT_SPM, CARD = (
    "model.safetensors",
    "config.json",
    "source.model",
    "target.model",
    "README.md",
)
FORMAT_VERSION = 1
# Decoding settings a folder's config.json may leave out (max length = max_len_a * |src| + max_len_b).
DECODING_DEFAULTS = {"beam_size": 5, "length_penalty": 1.0, "max_len_a": 2.0, "max_len_b": 20, "no_repeat_ngram": 0}
# The optional files of a model folder, by name: the class that loads (``cls.load(path)``) and saves
# (``obj.save(path)``) each.  Every copy of a folder (save, export, averaging, a run's folders) carries them.
OPTIONAL_FILES = {TRUECASE_FILE: Truecaser, NAMES_FILE: NameLexicon, KNOWN_WORDS_FILE: KnownWords}


class ModelFolderError(Exception):
    """A model folder is missing a file, or a file in it is truncated or corrupt.  The message names the file."""


@dataclass
class FolderConfig:
    model: ModelConfig
    t2s: bool = True  # Traditional -> Simplified conversion of the Chinese side
    decoding: dict = field(default_factory=dict)  # default decoding settings (beam_size, length_penalty, ...)
    # How word links are read from cross-attention: {"method": "head", "layer": L, "head": H} for a model
    # trained with the alignment loss; empty = the best raw-attention rule (seq2seq.align).
    alignment: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # anything else worth keeping (training summary, ...)
    direction: Direction = Direction("zh", "en")  # "zh-en" or "en-zh" are read as a Direction

    def __post_init__(self):
        self.decoding = {**DECODING_DEFAULTS, **self.decoding}  # every key present: callers just index
        self.direction = Direction.parse(self.direction)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format_version": FORMAT_VERSION,
                "direction": self.direction.label,
                "model": self.model.to_dict(),
                "tokenizer": {"t2s": self.t2s},
                "decoding": self.decoding,
                "alignment": self.alignment,
                "extra": self.extra,
            },
            indent=2,
            ensure_ascii=False,
        )


def atomic_replace_dir(fill, target: str | Path) -> Path:
    """Create ``target`` by calling ``fill(tmp_dir)`` on a fresh directory beside it, then swapping it in.

    The swap is two renames (old -> ``target.old``, new -> ``target``).  A crash between them leaves
    ``target.old`` complete; :func:`recover_dir` renames it back.  At no point is a half-written
    folder at ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        fill(tmp)
        umask = _umask()
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; a model folder is as shareable as any other file
        for f in tmp.iterdir():  # make the bytes durable before the swap
            os.chmod(f, 0o666 & ~umask)
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.rename(target, old)
    os.rename(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def recover_dir(target: str | Path) -> Path:
    """If a save was interrupted between its two renames, put the previous folder back."""
    target = Path(target)
    old = target.with_name(target.name + ".old")
    if not target.exists() and old.exists():
        os.rename(old, target)
    return target


def tied_weights(cfg: ModelConfig) -> set[str]:
    """The tensors a weights file leaves out: the generator's, tied to the target embedding (``tie_output``), and
    the target embedding, shared with the source one (``share_embeddings``)."""
    tied = {"generator.proj.weight"} if cfg.tie_output else set()
    return tied | {"tgt_embed.lut.weight"} if cfg.share_embeddings else tied


def saved_state(model: EncoderDecoder, dtype: Optional[torch.dtype] = None) -> dict[str, torch.Tensor]:
    """The tensors of ``model`` a weights file holds (all but :func:`tied_weights`), on the CPU; floating-point
    ones in ``dtype`` when given."""
    tied, state = tied_weights(model.cfg), {}
    for name, tensor in model.state_dict().items():
        if name not in tied:
            t = tensor.detach().cpu()
            state[name] = (t.to(dtype) if dtype is not None and t.is_floating_point() else t).contiguous()
    return state


def save_model_dir(
    path: str | Path,
    model: EncoderDecoder,
    src_spm: bytes,
    tgt_spm: bytes,
    cfg: FolderConfig,
    card: str = "",
    dtype: Optional[torch.dtype] = None,
    extra_files: Optional[dict] = None,
) -> Path:
    """Write a model folder atomically.  ``dtype`` (e.g. torch.float16) shrinks the weights file.

    ``extra_files`` maps file names to callables ``f(path)`` that write them (training state...).
    """
    state = saved_state(model, dtype)

    def fill(tmp: Path):
        save_file(state, str(tmp / WEIGHTS), metadata={"format": "pt"})
        (tmp / CONFIG).write_text(cfg.to_json(), encoding="utf-8")
        (tmp / SRC_SPM).write_bytes(src_spm)
        (tmp / TGT_SPM).write_bytes(tgt_spm)
        (tmp / CARD).write_text(card or "# seq2seq model\n", encoding="utf-8")
        for fname, write in (extra_files or {}).items():
            write(tmp / fname)

    return atomic_replace_dir(fill, path)


def run_folder_error(path: str | Path) -> Optional[str]:
    """If ``path`` is a seq2seq-train output folder rather than a model folder, the message that says which
    model folders it holds; else None."""
    path = Path(path)
    if (path / CONFIG).is_file():
        return None
    inside = [name for name in ("best", "last") if (path / name / CONFIG).is_file()]
    if not inside and not (path / "checkpoints").is_dir():
        return None
    use = " or ".join(str(path / name) for name in inside) or f"{path}/best or {path}/last once saved"
    return f"{path} is a training run folder (seq2seq-train output), not a model folder: use {use}"


def _need(path: Path, name: str) -> Path:
    f = path / name
    if not f.is_file():
        if name == CONFIG and run_folder_error(path):
            raise ModelFolderError(run_folder_error(path))
        raise ModelFolderError(f"model folder {path}: missing file {name}")
    return f


def _mismatch_error(path: Path, model: EncoderDecoder, state: dict, tied: set) -> Optional[str]:
    """One line naming the first tensor of ``state`` that does not fit ``model`` (shape, missing or extra),
    and how many do not, or None when all fit."""
    own = model.state_dict()
    problems = []
    for name, tensor in state.items():
        if name not in own:
            problems.append(f"{name} is not in a model of this config")
        elif tuple(tensor.shape) != tuple(own[name].shape):
            problems.append(f"{name} has shape {list(tensor.shape)} but {CONFIG} makes it {list(own[name].shape)}")
    problems += [f"{name} is missing" for name in own if name not in state and name not in tied]
    if not problems:
        return None
    more = f" (and {len(problems) - 1} more of the {len(own)} tensors differ)" if len(problems) > 1 else ""
    return f"model folder {path}: {WEIGHTS} does not match {CONFIG}: {problems[0]}{more}"


def read_folder_config(path: str | Path, name: str = CONFIG) -> FolderConfig:
    path = Path(path)
    f = _need(path, name)
    try:
        raw = json.loads(f.read_text(encoding="utf-8"))
        return FolderConfig(
            model=ModelConfig.from_dict(raw["model"]),
            t2s=raw.get("tokenizer", {}).get("t2s", True),
            decoding=raw.get("decoding", {}),
            alignment=raw.get("alignment", {}),
            extra=raw.get("extra", {}),
            direction=raw.get("direction", "zh-en"),
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise ModelFolderError(f"model folder {path}: {name} is corrupt or incomplete ({type(e).__name__}: {e})") from e


def load_tokenizers(
    path: str | Path,
    t2s: bool,
    direction: Direction | str = "zh-en",
) -> tuple[SubwordTokenizer, SubwordTokenizer, bytes, bytes]:
    """The folder's tokenizers; ``t2s`` applies to the Chinese side of ``direction``."""
    path = Path(path)
    d = Direction.parse(direction)
    out = []
    for name, use_t2s in ((SRC_SPM, t2s and d.source == "zh"), (TGT_SPM, t2s and d.target == "zh")):
        data = _need(path, name).read_bytes()
        try:
            out.append((SubwordTokenizer(data, t2s=use_t2s), data))
        except Exception as e:  # sentencepiece raises RuntimeError/OSError/ValueError on bad protos
            raise ModelFolderError(f"model folder {path}: {name} is not a valid sentencepiece model ({e})") from e
    return out[0][0], out[1][0], out[0][1], out[1][1]


def _optional_file(path: str | Path, name: str, load):
    """``load(path / name)``, or None when the folder has no such file; a corrupt one raises ModelFolderError."""
    f = Path(path) / name
    if not f.is_file():
        return None
    try:
        return load(f)
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFolderError(f"model folder {path}: {name} is corrupt ({e})") from e


def optional_file_writers(objects: dict) -> dict:
    """``save_model_dir``'s ``extra_files`` for loaded optional files (``{name: object or None}``)."""
    return {name: obj.save for name, obj in objects.items() if obj is not None}


def read_optional_files(folder: str | Path) -> dict[str, bytes]:
    """The optional files (:data:`OPTIONAL_FILES`) that ``folder`` has, as they are on disk."""
    folder = Path(folder)
    return {name: (folder / name).read_bytes() for name in OPTIONAL_FILES if (folder / name).is_file()}


def bytes_writers(files: dict[str, bytes]) -> dict:
    """``save_model_dir``'s ``extra_files`` for files held as bytes (:func:`read_optional_files`)."""
    return {name: (lambda path, data=data: Path(path).write_bytes(data)) for name, data in files.items()}


def copy_optional_files(src: str | Path, dst: str | Path) -> list[str]:
    """Copy the optional files that ``src`` has into the folder ``dst``; returns their names."""
    files = read_optional_files(src)
    for name, data in files.items():
        (Path(dst) / name).write_bytes(data)
    return list(files)


def load_truecaser(path: str | Path):
    """The folder's English truecasing model (:class:`seq2seq.truecase.Truecaser`), or None when it has none."""
    return _optional_file(path, TRUECASE_FILE, Truecaser.load)


def load_names(path: str | Path):
    """The folder's name lexicon (:class:`seq2seq.names.NameLexicon`, ``names.tsv``), or None when it has none."""
    return _optional_file(path, NAMES_FILE, NameLexicon.load)


def load_folder_files(path: str | Path) -> dict:
    """The folder's optional files as the codec takes them (``FolderCodec(..., **files)``), None where absent."""
    return dict(truecaser=load_truecaser(path), names=load_names(path), known_words=load_known_words(path))


def load_known_words(path: str | Path):
    """The folder's known English names (:class:`seq2seq.known_words.KnownWords`), or None when it has none."""
    return _optional_file(path, KNOWN_WORDS_FILE, KnownWords.load)


def load_model_dir(path: str | Path, device: str | torch.device = "cpu"):
    """Load (model, source tokenizer, target tokenizer, FolderConfig, (src_proto, tgt_proto)) from a folder."""
    path = Path(path)
    if not path.is_dir():
        raise ModelFolderError(f"model folder {path} does not exist or is not a directory")
    if run_folder_error(path):
        raise ModelFolderError(run_folder_error(path))
    cfg = read_folder_config(path)
    src_tok, tgt_tok, src_proto, tgt_proto = load_tokenizers(path, cfg.t2s, cfg.direction)
    mc = cfg.model
    if src_tok.vocab_size != mc.src_vocab_size or tgt_tok.vocab_size != mc.tgt_vocab_size:
        raise ModelFolderError(
            f"model folder {path}: {SRC_SPM}/{TGT_SPM} have {src_tok.vocab_size}/{tgt_tok.vocab_size} pieces but "
            f"{CONFIG} says {mc.src_vocab_size}/{mc.tgt_vocab_size}"
        )
    weights_file = _need(path, WEIGHTS)
    try:
        state = load_file(str(weights_file))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelFolderError(f"model folder {path}: {WEIGHTS} is truncated or corrupt ({e})") from e
    model = EncoderDecoder(mc)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    tied = tied_weights(mc)
    problem = _mismatch_error(path, model, state, tied)
    if problem:
        raise ModelFolderError(problem)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if m not in tied]
    if missing or unexpected:  # (checked above; kept as a guard)
        raise ModelFolderError(
            f"model folder {path}: {WEIGHTS} does not match {CONFIG} "
            f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
        )
    model.to(device).eval()
    return model, src_tok, tgt_tok, cfg, (src_proto, tgt_proto)
