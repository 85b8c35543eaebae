"""spacy-biobert: biomedical NER and relation extraction for spaCy on one shared
transformer pass (BioBERT on GPU, an embedded MiniLM offline on CPU).

Registered functions are found by spaCy through entry points (see ``setup.py``).
Importing the package only registers them: the ``Doc``/``Span`` extensions
(``doc._.relations``, ``doc._.entity_relations``, ``span._.kb_ids``, ...) are installed
by the components, corpus readers and commands that use them, or by calling
:func:`install_extensions`.
"""
from .about import __version__
from .extensions import install_extensions
from .fork_safety import install_fork_hook
from .inference import PRECISIONS, optimize
from .labels import CHEMICAL, DISEASE, GENE, LABELS, SPECIES
from .relations.items import EntityRelation, Relation
from .tokenizer import biomedical_tokenizer, create_biomedical_tokenizer
from .transformers_path import embedded_transformer_path

__all__ = [
    "CHEMICAL",
    "DISEASE",
    "GENE",
    "LABELS",
    "PRECISIONS",
    "SPECIES",
    "EntityRelation",
    "Relation",
    "__version__",
    "biomedical_tokenizer",
    "create_biomedical_tokenizer",
    "embedded_transformer_path",
    "install_extensions",
    "install_fork_hook",
    "optimize",
]
