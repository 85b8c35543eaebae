"""spacy-biobert: biomedical NER and relation extraction for spaCy on one shared
transformer pass (BioBERT on GPU, an embedded MiniLM offline on CPU).

Registered functions are found by spaCy through entry points (see ``setup.py``);
importing this package also registers them and installs the ``Doc``/``Span``
extensions (``doc._.relations``, ``doc._.entity_relations``, ``span._.kb_ids``, ...).
"""
from .about import __version__
from .extensions import install_extensions
from .fork_safety import install_fork_hook
from .labels import CHEMICAL, DISEASE, GENE, LABELS, SPECIES
from .relations.items import EntityRelation, Relation
from .tokenizer import biomedical_tokenizer, create_biomedical_tokenizer
from .transformers_path import embedded_transformer_path

install_extensions()
# nlp.pipe(n_process=N) forks workers; keep torch's OpenMP pool from hanging them.
install_fork_hook()

__all__ = [
    "CHEMICAL",
    "DISEASE",
    "GENE",
    "LABELS",
    "SPECIES",
    "EntityRelation",
    "Relation",
    "__version__",
    "biomedical_tokenizer",
    "create_biomedical_tokenizer",
    "embedded_transformer_path",
    "install_extensions",
]
