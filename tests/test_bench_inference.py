"""bench/inference_speed.py on the tiny trained pipeline: every precision measured in a
child interpreter, ratios to fp32 and F1 from a small DocBin."""
from pathlib import Path
from types import ModuleType

import pytest
from spacy.language import Language
from spacy.tokens import DocBin

from spacy_biobert.extras import has_module

BENCH = Path(__file__).resolve().parent.parent / "bench" / "inference_speed.py"


@pytest.fixture(scope="module")
def bench(load_bench) -> ModuleType:  # type: ignore[no-untyped-def]
    return load_bench("inference_speed")


def test_summary_gives_ratios_deltas_and_the_pubmed_projection(bench: ModuleType) -> None:
    runs = {"fp32": [{"words": 10, "ner_f1": 80.0, "words_per_second": 1000.0, "load_s": 2.0,
                      "peak_rss_mb": 900.0}],
            "onnx-int8": [{"words": 10, "ner_f1": 79.5, "words_per_second": 2600.0,
                           "load_s": 1.0, "peak_rss_mb": 500.0},
                          {"words_per_second": 3000.0, "load_s": 1.2, "peak_rss_mb": 520.0}]}
    prepared = {p: {"optimize_s": 0.0, "transformer_mb": 1.0} for p in runs}
    rows = bench.summarize(runs, prepared, threads=2)
    assert rows["onnx-int8"]["speedup"] == 2.8 and rows["onnx-int8"]["ner_f1_delta"] == -0.5
    # 1,000 words/s on 2 threads = 500 words/s per core: 7e9 words take 3,889 core hours.
    assert rows["fp32"]["pubmed_core_hours"] == round(7e9 / 500 / 3600)
    assert rows["fp32"]["pubmed_cores_24h"] == round(rows["fp32"]["pubmed_core_hours"] / 24)


def test_max_batch_items_settings_are_rows_against_the_first_fp32(bench: ModuleType) -> None:
    run = {"words": 10, "words_per_second": 1000.0, "load_s": 1.0, "peak_rss_mb": 900.0}
    names = [bench.variant_name(p, v) for p in ("fp32", "int8") for v in (4096, 1024)]
    assert names == ["fp32 @ 4096", "fp32 @ 1024", "int8 @ 4096", "int8 @ 1024"]
    assert bench.variant_name("fp32", 0) == "fp32"
    runs = {name: [dict(run, words_per_second=1000.0 * (i + 1))]
            for i, name in enumerate(names)}
    prepared = {p: {"optimize_s": 0.0, "transformer_mb": 1.0} for p in ("fp32", "int8")}
    rows = bench.summarize(runs, prepared, threads=1)
    assert [rows[n]["speedup"] for n in names] == [1.0, 2.0, 3.0, 4.0]
    for bad in ("-5", "abc", "1024,x"):
        with pytest.raises(SystemExit, match="max-batch-items"):
            bench.main(["model", "--texts", __file__, "--max-batch-items", bad])


@pytest.mark.slow
@pytest.mark.skipif(not has_module("onnxruntime"), reason="onnxruntime not installed: "
                    "pip install 'spacy-biobert[onnx]'")
def test_bench_measures_each_precision(bench: ModuleType, trained_nlp: Language, ner_data,
                                       tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """About 30 s: each precision is measured in a fresh interpreter."""
    trained_nlp.to_disk(tmp_path / "model")
    chem, _ = ner_data.examples(trained_nlp)
    DocBin(docs=[eg.reference for eg in chem], store_user_data=True).to_disk(
        tmp_path / "dev.spacy")
    rows = bench.main([str(tmp_path / "model"), "--dev", str(tmp_path / "dev.spacy"),
                       "--precisions", "fp32,onnx-int8", "--output",
                       str(tmp_path / "out.json")])
    assert set(rows) == {"fp32", "onnx-int8"}
    assert rows["fp32"]["speedup"] == 1.0
    for row in rows.values():
        assert row["words"] == sum(len(eg.reference) for eg in chem)
        assert row["words_per_second"] > 0 and row["load_s"] > 0 and row["peak_rss_mb"] > 0
        assert 0 <= row["ner_f1"] <= 100 and row["pubmed_cores_24h"] >= 0
    assert rows["onnx-int8"]["ner_f1_delta"] == pytest.approx(0, abs=1e-6)
    assert (tmp_path / "out.json").exists()


def test_window_replaces_the_pipelines_windows(bench: ModuleType, trained_nlp: Language,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from spacy_biobert import span_getters

    trained_nlp.to_disk(tmp_path / "model")
    seen = []
    split = span_getters.get_balanced_spans

    def recorded(docs, window, overlap):  # type: ignore[no-untyped-def]
        seen.append((window, overlap))
        return split(docs, window, overlap)

    monkeypatch.setattr(span_getters, "get_balanced_spans", recorded)
    texts = ["Lithium and aspirin were given . " * 4]
    threads = torch.get_num_threads()
    own = bench.measure(str(tmp_path / "model"), texts, threads, 8, None, 0)
    assert (5, 2) not in seen
    small = bench.measure(str(tmp_path / "model"), texts, threads, 8, None, 0, window="5:2")
    assert (5, 2) in seen and small["words"] == own["words"]
    (tmp_path / "texts.txt").write_text(texts[0], encoding="utf8")
    for bad in ("5:5", "5", "a:b"):
        with pytest.raises(SystemExit, match="--window"):
            bench.main([str(tmp_path / "model"), "--texts", str(tmp_path / "texts.txt"),
                        "--window", bad])
