"""The converted train/dev files reproduce the counts the corpus README states."""
from pathlib import Path
from typing import Dict, Tuple

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from spacy_biobert.corpora.base import ConversionReport, load_docs
from spacy_biobert.corpora.conll import parse_conll
from spacy_biobert.corpora.pubtator import parse_pubtator
from spacy_biobert.tokenizer import biomedical_tokenizer

FILES = {
    "bc5cdr_train": ("pubtator", "bc5cdr/CDR_TrainingSet.PubTator.txt"),
    "bc5cdr_dev": ("pubtator", "bc5cdr/CDR_DevelopmentSet.PubTator.txt"),
    "ncbi_train": ("pubtator", "ncbi_disease/NCBItrainset_corpus.txt"),
    "ncbi_dev": ("pubtator", "ncbi_disease/NCBIdevelopset_corpus.txt"),
    "bc2gm_train": ("conll", "bc2gm/train.tsv"),
    "bc2gm_dev": ("conll", "bc2gm/devel.tsv"),
    "linnaeus_train": ("conll", "linnaeus/train.tsv"),
    "linnaeus_dev": ("conll", "linnaeus/devel.tsv"),
}

Converted = Dict[str, Tuple[ConversionReport, list]]


@pytest.fixture(scope="module")
def converted(datasets_dir: Path) -> Converted:
    """Every file converted once per test run of this module."""
    nlp: Language = spacy.blank("en")
    nlp.tokenizer = biomedical_tokenizer(nlp)
    out: Converted = {}
    for key, (fmt, rel) in FILES.items():
        report = ConversionReport()
        parse = parse_pubtator if fmt == "pubtator" else parse_conll
        docs = load_docs(parse, datasets_dir / rel, nlp, report)
        out[key] = (report, docs)
    return out


@pytest.mark.parametrize(
    "key, docs, chemicals, diseases, cid",
    [("bc5cdr_train", 500, 5203, 4182, 1038), ("bc5cdr_dev", 500, 5347, 4244, 1012)],
)
def test_bc5cdr(converted: Converted, key: str, docs: int, chemicals: int, diseases: int,
                cid: int) -> None:
    report, doc_list = converted[key]
    assert report.docs == len(doc_list) == docs
    assert dict(report.entities) == {"CHEMICAL": chemicals, "DISEASE": diseases}
    assert report.relations["CID"] == cid
    assert sum(len(d._.entity_relations) for d in doc_list) == cid
    assert sum(len(d.spans["mentions"]) for d in doc_list) == chemicals + diseases
    assert report.alignment_rate >= 0.995, report.to_dict()
    assert report.aligned + report.repaired == report.mentions


@pytest.mark.parametrize("key, docs, mentions", [("ncbi_train", 593, 5145),
                                                 ("ncbi_dev", 100, 787)])
def test_ncbi_disease(converted: Converted, key: str, docs: int, mentions: int) -> None:
    report, doc_list = converted[key]
    assert report.docs == len(doc_list) == docs
    assert dict(report.entities) == {"DISEASE": mentions}
    assert report.alignment_rate >= 0.995, report.to_dict()


@pytest.mark.parametrize(
    "key, sentences, mentions, label",
    [
        ("bc2gm_train", 12574, 15197, "GENE_OR_GENE_PRODUCT"),
        ("bc2gm_dev", 2519, 3061, "GENE_OR_GENE_PRODUCT"),
        ("linnaeus_train", 11935, 2119, "SPECIES"),
        ("linnaeus_dev", 4078, 711, "SPECIES"),
    ],
)
def test_iob(converted: Converted, key: str, sentences: int, mentions: int, label: str) -> None:
    report, doc_list = converted[key]
    assert report.sentences == sentences
    assert sum(len(list(d.sents)) for d in doc_list) == sentences
    assert dict(report.entities) == {label: mentions}
    assert report.docs == len(doc_list) == -(-sentences // 10)
    assert report.alignment_rate == 1.0


def test_every_doc_is_labelled(converted: Converted) -> None:
    for key, (_, doc_list) in converted.items():
        first: Doc = doc_list[0]
        assert first._.doc_id, key
        assert first._.corpus == Path(FILES[key][1]).stem
        assert first._.annotated_labels, key
