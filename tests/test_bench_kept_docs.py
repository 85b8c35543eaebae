"""bench/kept_docs_memory.py on the tiny trained pipeline: the row with ``doc_cleaner``
holds no transformer output and finds the same entities."""
from pathlib import Path

from spacy.language import Language
from spacy.tokens import DocBin


def test_kept_docs_rows_with_and_without_the_cleaner(trained_nlp: Language, tmp_path: Path,
                                                    load_bench) -> None:  # type: ignore[no-untyped-def]
    bench = load_bench("kept_docs_memory")
    trained_nlp.to_disk(tmp_path / "model")  # no doc_cleaner: the bench adds one
    texts = ["Lithium and aspirin were given .", "BRCA1 is mutated in tumours ."] * 3
    DocBin(docs=[trained_nlp.make_doc(t) for t in texts]).to_disk(tmp_path / "dev.spacy")
    rows = bench.main([str(tmp_path / "model"), "--dev", str(tmp_path / "dev.spacy"),
                       "--limit", "4", "--workdir", str(tmp_path / "work")])
    without, with_cleaner = rows["without doc_cleaner"], rows["with doc_cleaner"]
    assert without["trf_data_kb_per_doc"] > 0 and with_cleaner["trf_data_kb_per_doc"] == 0
    assert without["entities"] == with_cleaner["entities"]
