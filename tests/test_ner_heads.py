"""NER heads on partially annotated corpora, on a tiny random BERT."""
from pathlib import Path
from typing import List

import numpy
import pytest
import spacy
from spacy.tokens import Span
from spacy.training import Example
from thinc.api import Adam, Config

from spacy_biobert.extensions import install_extensions

CONFIG = """
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

CHEM_TEXTS = [
    ("Aspirin caused bleeding in rats .", [(0, 1)]),
    ("Rats given cocaine died .", [(2, 3)]),
    ("Lithium and aspirin were given .", [(0, 1), (2, 3)]),
    # Unannotated genes in a chemical corpus are plain negatives for the chemical head.
    ("BRCA1 rose after aspirin .", [(3, 4)]),
]
GENE_TEXTS = [
    ("BRCA1 is mutated in tumours .", [(0, 1)]),
    ("The p53 protein binds DNA .", [(1, 2)]),
]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = tmp_path_factory.mktemp("tiny-bert")
    chars = "abcdefghijklmnopqrstuvwxyz0123456789"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", "-", "(", ")"]
    vocab += list(chars) + ["##" + c for c in chars]
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True).save_pretrained(path)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64)
    BertModel(config).save_pretrained(path)
    return path


def _examples(nlp: spacy.Language, texts, label: str, corpus: str) -> List[Example]:
    install_extensions()
    out = []
    for text, ents in texts:
        ref = nlp.make_doc(text)
        ref.ents = [Span(ref, s, e, label=label) for s, e in ents]
        ref._.corpus = corpus
        ref._.annotated_labels = (label,)
        out.append(Example(nlp.make_doc(text), ref))
    return out


@pytest.fixture()
def nlp(tiny_bert: Path) -> spacy.Language:
    config = Config().from_str(CONFIG.replace("{name}", str(tiny_bert)))
    return spacy.util.load_model_from_config(config, auto_fill=True, validate=True)


def _params(model) -> numpy.ndarray:  # type: ignore[no-untyped-def]
    arrays = []
    for node in model.walk():
        if node.name == "transformer-listener":
            continue
        for name in node.param_names:
            if node.has_param(name):
                arrays.append(numpy.asarray(node.get_param(name)).ravel().copy())
        for shim in node.shims:  # the transformer's weights live in PyTorch
            arrays.extend(p.detach().cpu().numpy().ravel().copy() for p in shim._model.parameters())
    return numpy.concatenate(arrays)


def test_head_is_not_updated_by_corpora_without_its_labels(nlp: spacy.Language) -> None:
    chem = _examples(nlp, CHEM_TEXTS, "CHEMICAL", "bc5cdr")
    gene = _examples(nlp, GENE_TEXTS, "GENE_OR_GENE_PRODUCT", "bc2gm")
    nlp.initialize(lambda: chem + gene)
    assert nlp.get_pipe("ner_chemical").labels == ("CHEMICAL",)
    assert nlp.get_pipe("ner_gene").labels == ("GENE_OR_GENE_PRODUCT",)
    gene_head = nlp.get_pipe("ner_gene").model
    chem_head = nlp.get_pipe("ner_chemical").model
    trf = nlp.get_pipe("transformer").model
    before_gene, before_chem, before_trf = _params(gene_head), _params(chem_head), _params(trf)
    optimizer = Adam(0.01, L2=0.0, L2_is_weight_decay=False, grad_clip=0.0)
    losses: dict = {}
    for _ in range(3):
        nlp.update(chem, sgd=optimizer, losses=losses)
    # The gene head saw only BC5CDR-like docs, which don't annotate genes.
    numpy.testing.assert_array_equal(before_gene, _params(gene_head))
    assert losses["ner_gene"] == 0.0
    # ...while the chemical head and the shared transformer did learn, even though the
    # gene head (the transformer's last listener) had nothing to learn from.
    assert not numpy.array_equal(before_chem, _params(chem_head))
    assert not numpy.array_equal(before_trf, _params(trf))
    assert losses["ner_chemical"] > 0.0
    # And gene docs do update the gene head.
    nlp.update(gene, sgd=optimizer, losses=losses)
    assert not numpy.array_equal(before_gene, _params(gene_head))


def test_heads_learn_and_merge_into_doc_ents(nlp: spacy.Language, tmp_path: Path) -> None:
    chem = _examples(nlp, CHEM_TEXTS, "CHEMICAL", "bc5cdr")
    gene = _examples(nlp, GENE_TEXTS, "GENE_OR_GENE_PRODUCT", "bc2gm")
    optimizer = nlp.initialize(lambda: chem + gene)
    for _ in range(60):
        nlp.update(chem + gene, sgd=optimizer, drop=0.0)
    doc = nlp("Lithium and aspirin were given .")
    assert {(e.text, e.label_) for e in doc.ents} >= {("Lithium", "CHEMICAL")}
    doc = nlp("BRCA1 is mutated in tumours .")
    assert ("BRCA1", "GENE_OR_GENE_PRODUCT") in {(e.text, e.label_) for e in doc.ents}
    # Round trip: the same predictions after to_disk / load.
    nlp.to_disk(tmp_path / "model")
    reloaded = spacy.load(tmp_path / "model")
    assert reloaded.get_pipe("ner_gene").cfg["head_labels"] == ["GENE_OR_GENE_PRODUCT"]
    for text, _ in CHEM_TEXTS + GENE_TEXTS:
        assert [(e.start, e.end, e.label_) for e in nlp(text).ents] == [
            (e.start, e.end, e.label_) for e in reloaded(text).ents
        ]


def test_partial_scorer_ignores_labels_the_corpus_does_not_annotate(nlp: spacy.Language) -> None:
    from spacy_biobert.ner.scorer import score_partial_ner

    install_extensions()
    ref = nlp.make_doc("BRCA1 binds aspirin .")
    ref.ents = [Span(ref, 0, 1, label="GENE_OR_GENE_PRODUCT")]
    ref._.annotated_labels = ("GENE_OR_GENE_PRODUCT",)
    pred = nlp.make_doc("BRCA1 binds aspirin .")
    pred.ents = [Span(pred, 0, 1, label="GENE_OR_GENE_PRODUCT"), Span(pred, 2, 3, label="CHEMICAL")]
    scores = score_partial_ner([Example(pred, ref)])
    assert scores["ents_p"] == 1.0 and scores["ents_r"] == 1.0
    assert "CHEMICAL" not in scores["ents_per_type"]
    ref._.annotated_labels = ("GENE_OR_GENE_PRODUCT", "CHEMICAL")
    scores = score_partial_ner([Example(pred, ref)])
    assert scores["ents_p"] == 0.5


def test_head_needs_labels(tiny_bert: Path) -> None:
    config = Config().from_str(CONFIG.replace("{name}", str(tiny_bert)))
    config["components"]["ner_gene"]["head_labels"] = []
    with pytest.raises(ValueError, match="head_labels"):
        spacy.util.load_model_from_config(config, auto_fill=True)


