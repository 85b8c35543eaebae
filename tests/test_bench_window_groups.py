"""bench/window_groups.py on the tiny trained pipeline: each setting timed, and grouping
the windows by length computes less padding than one padded run."""
import json
from pathlib import Path

import pytest
from spacy.language import Language
from spacy.tokens import DocBin

from spacy_biobert.inference import batching


def test_window_groups_bench(trained_nlp: Language, ner_data, tmp_path: Path,  # type: ignore[no-untyped-def]
                             load_bench) -> None:
    bench = load_bench("window_groups")
    trained_nlp.to_disk(tmp_path / "model")
    chem, gene = ner_data.examples(trained_nlp)
    DocBin(docs=[eg.reference for eg in chem + gene]).to_disk(tmp_path / "dev.spacy")
    before = batching.GROUP_TOKENS
    try:
        rows = bench.main([str(tmp_path / "model"), "--dev", str(tmp_path / "dev.spacy"),
                           "--precision", "int8", "--group-tokens", "0,8",
                           "--max-batch-items", "4096", "--repeats", "1",
                           "--output", str(tmp_path / "rows.json")])
    finally:
        batching.GROUP_TOKENS = before
    assert [(r["max_batch_items"], r["group_tokens"]) for r in rows] == [(4096, 0), (4096, 8)]
    assert all(r["seconds"] > 0 for r in rows)
    assert rows[1]["padding"] < rows[0]["padding"]
    assert json.loads((tmp_path / "rows.json").read_text()) == rows
    with pytest.raises(SystemExit, match="fp32"):
        bench.main([str(tmp_path / "model"), "--dev", str(tmp_path / "dev.spacy"),
                    "--precision", "fp32"])
