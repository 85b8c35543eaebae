"""Entity-level scoring with strict span match, restricted to the scored labels."""
from typing import List, Tuple

import pytest
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span

from spacy_biobert.evaluation import evaluate_corpora, metrics_markdown, score_docs

TEXT = "Lidocaine induced cardiac arrest and acute renal failure in BRCA1 mice ."

Ent = Tuple[int, int, str]


def make(nlp: Language, ents: List[Ent], text: str = TEXT) -> Doc:
    doc = nlp(text)
    doc.ents = [Span(doc, s, e, label=label) for s, e, label in ents]
    return doc


def counts(score) -> Tuple[int, int, int]:  # type: ignore[no-untyped-def]
    return (int(score.tp), int(score.fp), int(score.fn))


def test_exact_match(nlp: Language) -> None:
    ents = [(0, 1, "CHEMICAL"), (2, 4, "DISEASE"), (5, 8, "DISEASE")]
    scores = score_docs([make(nlp, ents)], [make(nlp, ents)], ["CHEMICAL", "DISEASE"])
    assert sorted(scores) == ["CHEMICAL", "DISEASE"]
    assert counts(scores["CHEMICAL"]) == (1, 0, 0)
    assert counts(scores["DISEASE"]) == (2, 0, 0)
    assert scores["DISEASE"].fscore == pytest.approx(1.0)


def test_boundary_mismatch_is_fp_and_fn(nlp: Language) -> None:
    gold = make(nlp, [(0, 1, "CHEMICAL"), (5, 8, "DISEASE")])
    pred = make(nlp, [(0, 1, "CHEMICAL"), (6, 8, "DISEASE")])  # "renal failure"
    scores = score_docs([pred], [gold], ["CHEMICAL", "DISEASE"])
    assert counts(scores["CHEMICAL"]) == (1, 0, 0)
    assert counts(scores["DISEASE"]) == (0, 1, 1)
    assert scores["DISEASE"].precision == 0.0
    assert scores["DISEASE"].recall == 0.0


def test_wrong_label_is_fp_and_fn(nlp: Language) -> None:
    gold = make(nlp, [(0, 1, "CHEMICAL")])
    pred = make(nlp, [(0, 1, "DISEASE")])
    scores = score_docs([pred], [gold], ["CHEMICAL", "DISEASE"])
    assert counts(scores["CHEMICAL"]) == (0, 0, 1)
    assert counts(scores["DISEASE"]) == (0, 1, 0)


def test_labels_outside_scored_set_are_ignored(nlp: Language) -> None:
    gold = make(nlp, [(2, 4, "DISEASE")])
    # BC2GM-style: the corpus says nothing about chemicals or genes
    pred = make(nlp, [(0, 1, "CHEMICAL"), (2, 4, "DISEASE"), (9, 10, "GENE_OR_GENE_PRODUCT")])
    scores = score_docs([pred], [gold], ["DISEASE"])
    assert list(scores) == ["DISEASE"]
    assert counts(scores["DISEASE"]) == (1, 0, 0)


def test_counts_add_up_over_docs(nlp: Language) -> None:
    golds = [make(nlp, [(0, 1, "CHEMICAL")]), make(nlp, [(0, 1, "CHEMICAL"), (9, 10, "CHEMICAL")])]
    preds = [make(nlp, [(0, 1, "CHEMICAL")]), make(nlp, [(2, 4, "CHEMICAL")])]
    scores = score_docs(preds, golds, ["CHEMICAL"])
    assert counts(scores["CHEMICAL"]) == (1, 1, 2)
    assert scores["CHEMICAL"].precision == pytest.approx(0.5)
    assert scores["CHEMICAL"].recall == pytest.approx(1 / 3)


def test_a_displaced_head_entity_counts_for_its_labels_not_for_doc_ents(nlp: Language) -> None:
    from spacy.tokens import SpanGroup

    from spacy_biobert.ner.component import HEAD_SPANS_KEY

    gold = make(nlp, [(10, 11, "SPECIES")])
    pred = make(nlp, [(9, 11, "GENE_OR_GENE_PRODUCT")])  # "BRCA1 mice" won doc.ents
    pred.spans[HEAD_SPANS_KEY] = SpanGroup(pred, spans=[
        Span(pred, 9, 11, label="GENE_OR_GENE_PRODUCT"), Span(pred, 10, 11, label="SPECIES")])
    assert counts(score_docs([pred], [gold], ["SPECIES"])["SPECIES"]) == (1, 0, 0)
    assert counts(score_docs([pred], [gold], ["SPECIES"], view=False)["SPECIES"]) == (0, 0, 1)


def test_different_texts_raise(nlp: Language) -> None:
    with pytest.raises(ValueError, match="texts differ"):
        score_docs([make(nlp, [], "a b")], [make(nlp, [], "a c")], ["CHEMICAL"])


def test_evaluate_corpora_with_a_fixed_pipeline(tmp_path, nlp: Language) -> None:  # type: ignore[no-untyped-def]
    """evaluate_corpora scores each DocBin on its annotated labels only."""
    gold = make(nlp, [(0, 1, "CHEMICAL"), (5, 8, "DISEASE")])
    gold._.corpus = "toy"
    gold._.annotated_labels = ("DISEASE",)
    path = tmp_path / "toy.spacy"
    DocBin(docs=[gold], store_user_data=True).to_disk(path)

    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([  # type: ignore[attr-defined]
        {"label": "CHEMICAL", "pattern": "BRCA1"},
        {"label": "DISEASE", "pattern": "renal failure"},
    ])
    metrics = evaluate_corpora(nlp, [path])
    toy = metrics["corpora"]["toy"]
    assert list(toy["labels"]) == ["DISEASE"]
    assert (toy["labels"]["DISEASE"]["tp"], toy["labels"]["DISEASE"]["fp"],
            toy["labels"]["DISEASE"]["fn"]) == (0, 1, 1)
    assert metrics["micro"]["f"] == 0.0
    assert metrics["ents_micro"]["f"] == 0.0 and toy["ents_micro"]["fn"] == 1
    table = metrics_markdown(metrics)
    assert "| toy | DISEASE |" in table
    # --limit N scores the first N documents of each file
    DocBin(docs=[gold, gold.copy()], store_user_data=True).to_disk(path)
    assert evaluate_corpora(nlp, [path])["corpora"]["toy"]["labels"]["DISEASE"]["fn"] == 2
    assert evaluate_corpora(nlp, [path], limit=1)["corpora"]["toy"]["labels"]["DISEASE"][
        "fn"] == 1
