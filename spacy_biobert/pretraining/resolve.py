"""Which transformer a training run uses: the embedded MiniLM, the adapted one, BioBERT.

``project.yml``'s ``train`` command passes its ``transformer`` var here through a config
override (``embedded`` by default, so ``spacy project run all`` stays fast;
``--vars.transformer biobert`` switches to the hub model), and ``train-adapted`` passes
``adapted`` with ``training/adapted`` as a declared dependency. The choice is always
named: nothing here looks for whatever model happens to lie in a folder. Only the
model's *name* is chosen here: a trained pipeline stores the transformer weights itself,
so loading it never needs the folder again.
"""
import logging
from pathlib import Path

from spacy.util import registry

from ..transformers_path import embedded_transformer_path

logger = logging.getLogger("spacy_biobert.pretraining")

BIOBERT = "dmis-lab/biobert-base-cased-v1.2"
DEFAULT_ADAPTED = "training/adapted"
CHOICES = ("embedded", "adapted", "biobert")


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").exists() and any(
        (path / name).exists() for name in ("model.safetensors", "pytorch_model.bin"))


def resolve_transformer(choice: str, adapted: str = DEFAULT_ADAPTED, *,
                        strict: bool = True) -> str:
    """The model name or folder for ``choice``.

    choice (str): "embedded" (the MiniLM shipped for CPU runs), "adapted" (the folder
        ``adapted``), "biobert" (BioBERT v1.2 from the hub), or any Hugging Face name or
        folder.
    adapted (str): Folder written by ``python -m spacy_biobert pretrain``.
    strict (bool): Raise if "adapted" names no model (else log a warning: a trained
        pipeline loads its transformer from its own files, so the folder is optional).
    RETURNS (str): What ``[components.transformer.model] name`` should be.
    """
    adapted_path = Path(adapted)
    if choice == "auto":
        # Once a choice that used whatever `adapted` held: say so rather than treat it
        # as a hub name.
        raise ValueError(f"transformer 'auto' is not a choice: name one of "
                         f"{', '.join(CHOICES)}, or a model name or folder")
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
def transformer_path(choice: str, adapted: str = DEFAULT_ADAPTED) -> str:
    """Config-side ``resolve_transformer``; logs which model it chose.

    [components.transformer.model.name]
    @misc = "spacy-biobert.transformer_path.v1"
    choice = "embedded"
    """
    name = resolve_transformer(choice, adapted, strict=False)
    logger.info("transformer %r -> %s", choice, name)
    return name
