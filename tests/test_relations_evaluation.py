"""Relation scores, the evaluate-relations and cv commands, and a real spacy train run."""
from pathlib import Path
from typing import Callable, List, Sequence, Tuple

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from thinc.api import Config
from typer.testing import CliRunner

from spacy_biobert.cli import app
from spacy_biobert.linking.concepts import ConceptCounts
from spacy_biobert.relations.evaluation import (
    Collected,
    concepts_markdown,
    entity_prf,
    evaluate_relations,
    kfold_splits,
    set_threshold,
    sweep,
)
from spacy_biobert.relations.items import EntityRelation, supporting_mentions
from spacy_biobert.relations.scorer import gold_entity_texts, pair_matches, score_relations

Ent = Tuple[int, int, str, str]
DOCS: Sequence[Tuple[str, List[Ent], List[Tuple[str, str]]]] = (
    ("Lithium caused nephropathy in rats .",
     [(0, 1, "CHEMICAL", "C1"), (2, 3, "DISEASE", "D1")], [("C1", "D1")]),
    ("Aspirin did not cause asthma . Lithium caused nephropathy .",
     [(0, 1, "CHEMICAL", "C2"), (4, 5, "DISEASE", "D2"), (6, 7, "CHEMICAL", "C1"),
      (8, 9, "DISEASE", "D1")], [("C1", "D1")]),
    ("Cocaine caused seizures . Asthma was absent .",
     [(0, 1, "CHEMICAL", "C3"), (2, 3, "DISEASE", "D3"), (4, 5, "DISEASE", "D2")],
     [("C3", "D3")]),
    ("Heparin caused thrombocytopenia . Aspirin was given .",
     [(0, 1, "CHEMICAL", "C4"), (2, 3, "DISEASE", "D4"), (4, 5, "CHEMICAL", "C2")],
     [("C4", "D4")]),
)

TRAIN_SECTIONS = """
[paths]
train = null
dev = null

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${paths.train}

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${paths.dev}

[training]
seed = 0
gpu_allocator = null
max_steps = 6
eval_frequency = 3
dropout = 0.0
patience = 0

[training.batcher]
@batchers = "spacy.batch_by_words.v1"
size = 60

[training.score_weights]
ents_f = 0.5
rel_micro_f = 0.5
"""


def gold_doc(nlp: Language, text: str, ents: List[Ent], rels: List[Tuple[str, str]]) -> Doc:
    doc = nlp.make_doc(text)
    doc.ents = [Span(doc, s, e, label=label, kb_id=kb) for s, e, label, kb in ents]
    doc._.corpus = "bc5cdr"
    doc._.annotated_labels = ("CHEMICAL", "DISEASE")
    doc._.entity_relations = [EntityRelation(h, t, "CID", 1.0, supporting_mentions(doc, h, t))
                              for h, t in rels]
    return doc


def write_docbin(nlp: Language, path: Path) -> Path:
    docs = [gold_doc(nlp, *row) for row in DOCS]
    DocBin(store_user_data=True, docs=docs).to_disk(path)
    return path


@pytest.fixture(scope="module")
def trained(make_rel_nlp: Callable[[], Language], tmp_path_factory: pytest.TempPathFactory
            ) -> Tuple[Path, Path]:
    """(saved trained NER + relation pipeline, its .spacy data)."""
    spacy.util.fix_random_seed(0)
    nlp = make_rel_nlp()
    examples = [Example(nlp.make_doc(row[0]), gold_doc(nlp, *row)) for row in DOCS]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        nlp.update(examples, sgd=optimizer, drop=0.0)
    root = tmp_path_factory.mktemp("rel-eval")
    nlp.to_disk(root / "model")
    return root / "model", write_docbin(nlp, root / "dev.spacy")


def test_scorer_matches_ids_and_normalized_text(nlp: Language) -> None:
    gold = gold_doc(nlp, *DOCS[1])
    texts = gold_entity_texts(gold)
    assert pair_matches(("C1", "D1"), ("C1", "D1"), texts)
    assert pair_matches(("text:lithium", "text:nephropathy"), ("C1", "D1"), texts)
    assert not pair_matches(("text:aspirin", "text:nephropathy"), ("C1", "D1"), texts)
    predicted = nlp.make_doc(DOCS[1][0])
    predicted.ents = [Span(predicted, 6, 7, label="CHEMICAL"),
                      Span(predicted, 4, 5, label="DISEASE")]
    predicted._.entity_relations = [
        EntityRelation("text:lithium", "text:nephropathy", "CID", 0.9),  # right, by text
        EntityRelation("text:lithium", "text:asthma", "CID", 0.8),  # wrong
        EntityRelation("text:aspirin", "text:asthma", "CID", 0.2),  # below the threshold
    ]
    scores = score_relations([Example(predicted, gold)], threshold=0.5, labels=["CID"])
    assert scores["rel_micro_p"] == pytest.approx(0.5)
    assert scores["rel_micro_r"] == pytest.approx(1.0)
    assert scores["rel_per_type"]["CID"]["f"] == pytest.approx(2 / 3)
    # Documents without relation annotation are not scored.
    plain = nlp.make_doc("Nothing .")
    assert score_relations([Example(plain, plain)])["rel_micro_f"] == 0.0


def test_min_per_doc_in_scorer_and_entity_prf(nlp: Language) -> None:
    gold = gold_doc(nlp, *DOCS[1])
    predicted = nlp.make_doc(DOCS[1][0])
    predicted._.entity_relations = [
        EntityRelation("C2", "D2", "CID", 0.3),
        EntityRelation("C1", "D1", "CID", 0.4),
    ]
    example = Example(predicted, gold)
    assert score_relations([example], threshold=0.5)["rel_micro_f"] == 0.0
    one = score_relations([example], threshold=0.5, min_per_doc=1)
    assert (one["rel_micro_p"], one["rel_micro_r"]) == (1.0, 1.0)
    assert score_relations([example], threshold=0.5, min_per_doc=2)["rel_micro_p"] == 0.5
    # Two documents: scores with their rank in the document; three gold pairs.
    c = Collected(entity_scores=[0.9, 0.2, 0.1, 0.3, 0.05], entity_gold=[1, 0, 0, 0, 1],
                  entity_rank=[0, 1, 2, 0, 1], gold_matches=[[0], [4], []])
    rows = [(r["tp"], r["predicted"], r["p"], r["r"])
            for r in (entity_prf(c, 0.5, k) for k in (0, 1, 2))]
    assert rows == [(1, 1, 1.0, 1 / 3), (1, 2, 0.5, 1 / 3), (2, 4, 0.5, 2 / 3)]
    # On ids, a pair with a NIL entity (text-keyed) is no prediction at all.
    c.entity_gold_ids, c.gold_matches_ids = [1, 0, 0, 0, 1], [[0], [4], []]
    c.entity_linked = [1, 0, 1, 1, 1]
    on_ids = entity_prf(c, 0.15, ids_only=True)
    assert (on_ids["tp"], on_ids["predicted"]) == (1, 2)
    assert entity_prf(c, 0.15)["predicted"] == 3


def test_evaluate_gold_and_predicted_entities(trained: Tuple[Path, Path]) -> None:
    model, data = trained
    nlp = spacy.load(model)
    metrics, collected = evaluate_relations(nlp, [data], do_sweep=True)
    gold = metrics["gold"]
    # With gold entities every gold pair is a candidate; 4 gold pairs in 4 documents.
    assert gold["entity_candidates"]["gold_pairs"] == 4
    assert gold["entity_candidates"]["gold_pairs_not_candidates"] == 0
    assert gold["entity_candidates"]["count"] == 1 + 4 + 2 + 2
    assert gold["cid"]["f"] > 0.5
    assert 0.0 <= gold["entity_curves"]["roc_auc"] <= 1.0
    assert metrics["predicted"]["documents"] == 4
    # End to end on ids: no linker in this pipeline, so no predicted concept and no
    # predicted pair matches by id; 12 gold (document, id) pairs in the 4 documents.
    assert "concepts" not in gold
    concepts = metrics["predicted"]["concepts"]["micro"]
    assert (concepts["gold"], concepts["predicted"]) == (12, 0)
    assert metrics["predicted"]["cid_ids"]["tp"] == 0
    assert metrics["predicted"]["cid_ids"]["predicted"] == 0  # NIL pairs name no concepts
    assert metrics["predicted"]["cid"]["predicted"] > 0
    assert metrics["predicted"]["cid_ids"]["gold"] == 4
    assert gold["cid_ids"] == gold["cid"]  # gold entities carry the gold ids
    best = metrics["sweep"]["best_threshold"]
    assert metrics["sweep"]["best_f"] == pytest.approx(
        metrics["gold"]["at_best_threshold"]["cid"]["f"])
    assert sweep(collected["gold"])["best_threshold"] == best
    set_threshold(nlp, best, 0.25)
    assert nlp.get_pipe("relation_extractor").threshold == best
    assert nlp.get_pipe("relation_extractor").mention_threshold == 0.25
    assert nlp.config["components"]["relation_extractor"]["threshold"] == best
    # min_per_doc: with a threshold nothing reaches, each document reports its best pair.
    nlp.get_pipe("relation_extractor").threshold = 1.01
    strict, _ = evaluate_relations(nlp, [data], modes=["gold"])
    assert strict["gold"]["cid"]["predicted"] == 0
    one, _ = evaluate_relations(nlp, [data], modes=["gold"], min_per_doc=1)
    assert one["min_per_doc"] == 1 and one["gold"]["cid"]["predicted"] == len(DOCS)
    assert nlp.get_pipe("relation_extractor").min_per_doc == 0  # only scored, not stored


def test_evaluate_relations_cli_writes_metrics_curves_and_threshold(
    trained: Tuple[Path, Path], tmp_path: Path
) -> None:
    model, data = trained
    out = tmp_path / "metrics"
    result = CliRunner().invoke(app, [
        "evaluate-relations", str(model), str(data), "--sweep", "--save-threshold",
        "--save-to", str(tmp_path / "tuned"), "--output", str(out / "relations.json"),
        "--markdown", str(out / "relations.md"), "--curves", str(out), "--min-per-doc", "1"])
    assert result.exit_code == 0, result.output
    for name in ("relations.json", "relations.md", "relations_roc.png", "relations_pr.png"):
        assert (out / name).exists(), name
    assert (out / "relations_roc.png").read_bytes()[:4] == b"\x89PNG"
    assert "| gold |" in (out / "relations.md").read_text()
    tuned = spacy.load(tmp_path / "tuned")
    import json

    best = json.loads((out / "relations.json").read_text())["sweep"]
    tuned_rel = tuned.get_pipe("relation_extractor")
    assert tuned_rel.threshold == pytest.approx(best["best_threshold"])
    assert tuned_rel.mention_threshold == pytest.approx(best["best_mention_threshold"])
    assert tuned.config["components"]["relation_extractor"]["threshold"] == pytest.approx(
        best["best_threshold"])
    assert tuned_rel.min_per_doc == 1
    assert tuned.config["components"]["relation_extractor"]["min_per_doc"] == 1


def test_evaluate_relations_cli_bad_input(trained: Tuple[Path, Path], tmp_path: Path) -> None:
    model, _ = trained
    plain = tmp_path / "plain.spacy"
    nlp = spacy.blank("en")
    DocBin(store_user_data=True, docs=[nlp.make_doc("No relations here .")]).to_disk(plain)
    result = CliRunner().invoke(app, ["evaluate-relations", str(model), str(plain)])
    assert result.exit_code == 1
    assert "no document with relation annotations" in result.output
    result = CliRunner().invoke(app, ["evaluate-relations", str(model), str(tmp_path / "x.spacy")])
    assert result.exit_code == 1 and "no such file" in result.output


def test_concept_counts_are_document_level_sets(nlp: Language) -> None:
    gold = gold_doc(nlp, *DOCS[1])  # C2, D2, C1, D1
    gold.spans["mentions"] = list(gold.ents)
    predicted = nlp.make_doc(DOCS[1][0])
    predicted.ents = [Span(predicted, 0, 1, label="CHEMICAL", kb_id="C2"),
                      Span(predicted, 4, 5, label="DISEASE", kb_id="D9"),
                      Span(predicted, 6, 7, label="CHEMICAL", kb_id=""),  # NIL
                      Span(predicted, 8, 9, label="DISEASE", kb_id="D1")]
    counts = ConceptCounts()
    counts.add(gold, predicted)
    counts.add(gold, predicted)  # a second document: counts add up
    scores = counts.to_dict()
    assert (scores["CHEMICAL"]["tp"], scores["CHEMICAL"]["predicted"],
            scores["CHEMICAL"]["gold"]) == (2, 2, 4)
    assert (scores["DISEASE"]["tp"], scores["DISEASE"]["predicted"],
            scores["DISEASE"]["gold"]) == (2, 4, 4)
    assert scores["micro"]["p"] == pytest.approx(4 / 6)
    assert scores["micro"]["r"] == pytest.approx(4 / 8)
    # D9 on gold D2's span, C1's span found but NIL: linking errors, twice
    assert scores["DISEASE"]["errors"] == {"fp": {"entity": 0, "boundary": 0, "linking": 2},
                                           "fn": {"entity": 0, "boundary": 0, "linking": 2}}
    assert scores["CHEMICAL"]["errors"]["fn"] == {"entity": 0, "boundary": 0, "linking": 2}


def test_concept_errors_put_down_to_entities_boundaries_or_links(nlp: Language) -> None:
    gold = gold_doc(nlp, *DOCS[1])  # C2 0-1, D2 4-5, C1 6-7, D1 8-9
    predicted = nlp.make_doc(DOCS[1][0])
    predicted.ents = [Span(predicted, 0, 1, label="CHEMICAL", kb_id="C7"),  # wrong id
                      Span(predicted, 2, 3, label="CHEMICAL", kb_id="C5"),  # no gold there
                      Span(predicted, 3, 5, label="DISEASE", kb_id="D8")]  # overlaps D2
    counts = ConceptCounts()
    counts.add(gold, predicted)
    errors = counts.to_dict()
    assert errors["CHEMICAL"]["errors"] == {"fp": {"entity": 1, "boundary": 0, "linking": 1},
                                            "fn": {"entity": 1, "boundary": 0, "linking": 1}}
    assert errors["DISEASE"]["errors"] == {"fp": {"entity": 0, "boundary": 1, "linking": 0},
                                           "fn": {"entity": 1, "boundary": 1, "linking": 0}}
    markdown = concepts_markdown({"cid_ids": errors["micro"], "concepts": errors})
    assert "| DISEASE | 0 | 1 | 0 | 1 | 1 | 0 |" in markdown


def test_kfold_splits_cover_every_document_once() -> None:
    splits = kfold_splits(10, 3, seed=1)
    held = sorted(i for _, dev in splits for i in dev)
    assert held == list(range(10))
    assert all(not set(train) & set(dev) for train, dev in splits)
    with pytest.raises(ValueError, match="k-fold"):
        kfold_splits(3, 5)


def _train_config(tiny_bert: Path, rel_config: Config, path: Path) -> Path:
    text = rel_config.to_str() + TRAIN_SECTIONS
    path.write_text(text)
    return path


def test_spacy_train_ner_and_relations_in_one_run(
    tiny_bert: Path, rel_config: Config, tmp_path: Path
) -> None:
    from spacy.cli.train import train

    nlp = spacy.blank("en")
    from spacy_biobert.tokenizer import biomedical_tokenizer

    nlp.tokenizer = biomedical_tokenizer(nlp)
    data = write_docbin(nlp, tmp_path / "data.spacy")
    config = _train_config(tiny_bert, rel_config, tmp_path / "config.cfg")
    train(config, tmp_path / "out", overrides={"paths.train": str(data), "paths.dev": str(data)})
    trained_nlp = spacy.load(tmp_path / "out" / "model-best")
    assert trained_nlp.pipe_names == ["transformer", "ner_chemical", "ner_disease",
                                      "relation_extractor"]
    meta = trained_nlp.meta["performance"]
    assert "rel_micro_f" in meta and "ents_f" in meta
    doc = trained_nlp("Lithium caused nephropathy in rats .")
    assert isinstance(doc._.relations, list) and isinstance(doc._.entity_relations, list)


def test_cv_command_reports_mean_and_std(tiny_bert: Path, rel_config: Config,
                                         tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    from spacy_biobert.tokenizer import biomedical_tokenizer

    nlp.tokenizer = biomedical_tokenizer(nlp)
    data = write_docbin(nlp, tmp_path / "data.spacy")
    config = _train_config(tiny_bert, rel_config, tmp_path / "config.cfg")
    result = CliRunner().invoke(app, ["cv", str(config), str(data), "--folds", "2",
                                      "--max-steps", "2", "--eval-frequency", "2",
                                      "--output", str(tmp_path / "cv")])
    assert result.exit_code == 0, result.output
    import json

    summary = json.loads((tmp_path / "cv" / "cv.json").read_text())
    assert len(summary["per_fold"]) == 2 and summary["documents"] == 4
    assert 0.0 <= summary["gold"]["mean_f"] <= 1.0 and summary["gold"]["std_f"] >= 0.0
    assert "±" in result.output




def test_bench_relations_speed_runs_side_by_side(trained: Tuple[Path, Path], tmp_path: Path,
                                                  load_bench) -> None:  # type: ignore[no-untyped-def]
    import json

    module = load_bench("relations_speed")
    model, data = trained
    result = module.main(["--model", str(model), "--data", str(data), "--n-docs", "4",
                          "--rounds", "1", "--output", str(tmp_path / "speed.json")])
    assert result["documents"] == 4 and result["words"] > 20
    assert result["ner_words_per_s"] > 0 and result["ner_relations_words_per_s"] > 0
    assert json.loads((tmp_path / "speed.json").read_text())["slowdown_percent"] == \
        pytest.approx(result["slowdown_percent"])
