"""Which transformer a training run uses: the embedded MiniLM, the adapted one, BioBERT.

``project.yml``'s ``train`` command passes its ``transformer`` var here through a config
override, so ``spacy project run all`` stays fast (it trains on an adapted model when a
``pretrain`` step has written one, else on the embedded MiniLM) and
``--vars.transformer biobert`` switches to the hub model. Only the model's *name* is
chosen here: a trained pipeline stores the transformer weights itself, so loading it
never needs the folder again.
"""
import logging
from pathlib import Path

from spacy.util import registry

from ..transformers_path import embedded_transformer_path

logger = logging.getLogger("spacy_biobert.pretraining")

BIOBERT = "dmis-lab/biobert-base-cased-v1.2"
DEFAULT_ADAPTED = "training/adapted"
CHOICES = ("auto", "embedded", "adapted", "biobert")


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").exists() and any(
        (path / name).exists() for name in ("model.safetensors", "pytorch_model.bin"))


def resolve_transformer(choice: str = "auto", adapted: str = DEFAULT_ADAPTED, *,
                        strict: bool = True) -> str:
    """The model name or folder for ``choice``.

    choice (str): "auto" (the adapted model if ``adapted`` holds one, else the embedded
        MiniLM), "embedded", "adapted", "biobert" (BioBERT v1.2 from the hub), or any
        Hugging Face name or folder.
    adapted (str): Folder written by ``python -m spacy_biobert pretrain``.
    strict (bool): Raise if "adapted" names no model (else log a warning: a trained
        pipeline loads its transformer from its own files, so the folder is optional).
    RETURNS (str): What ``[components.transformer.model] name`` should be.
    """
    adapted_path = Path(adapted)
    if choice == "auto":
        choice = "adapted" if _is_model_dir(adapted_path) else "embedded"
    if choice == "embedded":
        return embedded_transformer_path()
    if choice == "adapted":
        if not _is_model_dir(adapted_path):
            message = (f"transformer 'adapted': no pretrained model in {adapted_path} "
                       "(run `spacy project run adapt` first)")
            if strict:
                raise ValueError(message)
            logger.warning(message)
        return str(adapted_path.resolve())
    if choice == "biobert":
        return BIOBERT
    return choice


@registry.misc("spacy-biobert.transformer_path.v1")
def transformer_path(choice: str = "auto", adapted: str = DEFAULT_ADAPTED) -> str:
    """Config-side ``resolve_transformer``; logs which model it chose.

    [components.transformer.model.name]
    @misc = "spacy-biobert.transformer_path.v1"
    choice = "auto"
    """
    name = resolve_transformer(choice, adapted, strict=False)
    logger.info("transformer %r -> %s", choice, name)
    return name
