"""bench/linking_rerank.py on a tiny KB: every gold mention counted, the rankers
cross-validated per label, the context features from a pipeline's transformer."""
import json
from pathlib import Path

import pytest
from spacy.language import Language
from spacy.tokens import DocBin, Span

from spacy_biobert.linking.kb import build_kb

DESCRIPTORS = "\n".join([
    "D015738\tFamotidine\tMK-208\tD03.383.129.462.580",
    "D011618\tPsychotic Disorders\tPsychosis\tF03.700",
    "D011605\tPsychoses, Substance-Induced\tPsychosis\tF03.900",
    "D003693\tDelirium\tSubacute Delirium\tC10.597.606",
]) + "\n"
TRAIN = ("1|t|Famotidine caused psychosis.\n1|a|\n"
         "1\t0\t10\tFamotidine\tChemical\tD015738\n"
         "1\t18\t27\tpsychosis\tDisease\tD011605\n\n")
TEXTS = [("Famotidine psychosis delirium .", "D011605"),
         ("Famotidine psychosis .", "D011618"),
         ("Famotidine psychosis delirium .", "D011605"),
         ("Famotidine psychosis .", "D011605")]


def write_inputs(nlp: Language, write_file, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    kb = build_kb(descriptors=write_file("desc.tsv", DESCRIPTORS),
                  training=[write_file("train.txt", TRAIN)], mesh_version="test")
    kb.to_disk(tmp_path / "kb.bin")
    docs = []
    for text, psychosis in TEXTS:
        doc = nlp.make_doc(text)
        ents = [Span(doc, 0, 1, label="CHEMICAL", kb_id="D015738"),
                Span(doc, 1, 2, label="DISEASE", kb_id=psychosis)]
        if "delirium" in text:
            ents.append(Span(doc, 2, 3, label="DISEASE", kb_id="D003693"))
        doc.ents = ents
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "dev.spacy")
    return tmp_path / "dev.spacy"


def test_linking_rerank_bench(nlp: Language, write_file, tmp_path: Path,  # type: ignore[no-untyped-def]
                              load_bench) -> None:
    bench = load_bench("linking_rerank")
    dev = write_inputs(nlp, write_file, tmp_path)
    rows = bench.main([str(tmp_path / "kb.bin"), str(dev), "--folds", "2",
                       "--output", str(tmp_path / "rows.json")])
    by_label = {r["label"]: r for r in rows}
    assert by_label["CHEMICAL"]["mentions"] == 4 and by_label["DISEASE"]["mentions"] == 6
    assert by_label["CHEMICAL"]["linker"] == 100.0
    # psychosis is D011605 in three of four documents: the linker follows the prior
    assert by_label["DISEASE"]["linker"] == pytest.approx(100 * 5 / 6, abs=0.01)
    assert all(0 <= r["ranker"] <= 100 and r["ranker_context"] is None for r in rows)
    assert json.loads((tmp_path / "rows.json").read_text()) == rows
    with pytest.raises(SystemExit):
        bench.main([str(tmp_path / "kb.bin"), str(dev), "--context", "model"])


def test_linking_rerank_context_features(trained_nlp: Language, write_file,  # type: ignore[no-untyped-def]
                                         tmp_path: Path, load_bench) -> None:
    bench = load_bench("linking_rerank")
    dev = write_inputs(trained_nlp, write_file, tmp_path)
    trained_nlp.to_disk(tmp_path / "model")
    rows = bench.main([str(tmp_path / "kb.bin"), str(dev), "--context",
                       str(tmp_path / "model"), "--train", str(dev)])
    assert {r["label"] for r in rows} == {"CHEMICAL", "DISEASE"}
    assert all(r["ranker_context"] is not None for r in rows)
    context = bench.Context(trained_nlp)
    doc = next(DocBin(store_user_data=True).from_disk(dev).get_docs(trained_nlp.vocab))
    vectors = context.vectors(doc)
    assert set(vectors) == {(e.start, e.end) for e in doc.ents}
    assert all(abs(float((v ** 2).sum()) - 1.0) < 1e-4 for v in vectors.values())
