"""Load a BERT-family model with a masked-language-model head, and save the result.

Encoders distributed for sentence embeddings (the embedded all-MiniLM-L6-v2 among them)
ship only the encoder. Pretraining then attaches a new MLM head: its decoder is tied to
the word embeddings, as in BERT, so only the small transform layer and the output bias
start from random values (``fit_new_head`` trains those first, see ``trainer``).
"""
import json
import logging
from pathlib import Path
from typing import Any, List, Tuple

logger = logging.getLogger("spacy_biobert.pretraining")


class ModelLoadError(ValueError):
    """A base model that cannot be pretrained (names it and says why)."""


def load_mlm_model(base: str) -> Tuple[Any, Any, List[str]]:
    """Load tokenizer and masked-LM model from a folder or hub name.

    base (str): A Hugging Face model folder (config.json, weights, vocabulary) or hub name.
    RETURNS (Tuple[Any, Any, List[str]]): tokenizer, model (``AutoModelForMaskedLM``), and
        the names of head parameters the checkpoint did not have (empty: head loaded).
    """
    from transformers import AutoConfig, AutoModelForMaskedLM, AutoTokenizer
    from transformers.models.auto.modeling_auto import MODEL_FOR_MASKED_LM_MAPPING_NAMES

    path = Path(base)
    if path.exists() and not (path / "config.json").exists():
        raise ModelLoadError(f"{base}: no config.json; not a Hugging Face model folder")
    try:
        config = AutoConfig.from_pretrained(base)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"{base}: cannot read the model configuration: {err}") from err
    if config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES:
        raise ModelLoadError(
            f"{base}: model type {config.model_type!r} has no masked-language-model head in "
            "transformers, so it cannot be pretrained with MLM; use a BERT-family encoder "
            "(bert, roberta, electra, distilbert, ...)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(base, use_fast=True)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"{base}: cannot load its tokenizer: {err}") from err
    if tokenizer.mask_token is None:
        raise ModelLoadError(f"{base}: its tokenizer has no mask token; cannot train an MLM")
    try:
        model, info = AutoModelForMaskedLM.from_pretrained(base, output_loading_info=True)
    except (OSError, ValueError) as err:
        raise ModelLoadError(f"{base}: cannot load the weights: {err}") from err
    prefix = model.base_model_prefix + "."
    new_head = [name for name in info["missing_keys"] if not name.startswith(prefix)]
    missing_encoder = [name for name in info["missing_keys"] if name.startswith(prefix)]
    if missing_encoder:
        raise ModelLoadError(
            f"{base}: the checkpoint lacks encoder weights ({', '.join(missing_encoder[:3])}"
            f"{' ...' if len(missing_encoder) > 3 else ''}); is it a complete model?")
    if new_head:
        logger.warning(
            "%s has no masked-LM head (an encoder-only checkpoint); attached a new one, "
            "decoder tied to the word embeddings, new: %s", base, ", ".join(new_head))
    return tokenizer, model, new_head


def head_parameters(model: Any, new_head: List[str]) -> List[Any]:
    """The parameters of the new head that are not shared with the encoder."""
    params = dict(model.named_parameters())
    return [params[name] for name in new_head if name in params]


def save_model(model: Any, tokenizer: Any, output: Path, info: dict) -> None:
    """Write a folder spacy-transformers (and ``pretrain --base``) can load.

    It holds config.json, model.safetensors (encoder + MLM head), the tokenizer files
    and ``pretraining.json`` (settings, perplexities, time).
    """
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output, safe_serialization=True)
    # The NER configs window text into <= 512 pieces; record the limit so that a
    # tokenizer without one (some hub tokenizers) does not produce longer inputs.
    if not tokenizer.model_max_length or tokenizer.model_max_length > 100_000:
        tokenizer.model_max_length = model.config.max_position_embeddings
    tokenizer.save_pretrained(output)
    (output / "pretraining.json").write_text(json.dumps(info, indent=2), encoding="utf8")
