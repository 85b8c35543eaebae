"""Domain-adaptive pretraining: continued masked-language-model training of a BERT-family
transformer on biomedical text (the BioBERT recipe, Lee et al. 2020, on any encoder).

``python -m spacy_biobert pretrain INPUT... --output DIR`` writes a model folder that the
NER configs take as ``[components.transformer.model] name``. The modules:

- ``data``: robust text reading, wordpiece packing, whole-word dynamic masking;
- ``model``: loading a model with an MLM head (attaching one when the checkpoint has none);
- ``trainer``: the training loop with checkpoints, resume and held-out perplexity;
- ``resolve``: which transformer a project run uses (embedded, adapted, BioBERT).
"""
from .data import PretrainDataError, TextStats
from .model import ModelLoadError
from .resolve import resolve_transformer, transformer_path
from .trainer import PretrainSettings, pretrain

__all__ = [
    "ModelLoadError",
    "PretrainDataError",
    "PretrainSettings",
    "TextStats",
    "pretrain",
    "resolve_transformer",
    "transformer_path",
]
