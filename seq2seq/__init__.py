"""seq2seq: a small, readable Chinese<->English Transformer translator."""

from .direction import Direction
from .model import EncoderDecoder, ModelConfig
from .model_dir import ModelFolderError
from .translator import DEFAULT_MODEL_DIR, Translation, Translator

__all__ = [
    "Translator",
    "Translation",
    "Direction",
    "EncoderDecoder",
    "ModelConfig",
    "ModelFolderError",
    "DEFAULT_MODEL_DIR",
]
__version__ = "0.1.0"
