"""bench/abbreviations_speed.py runs on a tiny DocBin and reports its figures."""
import json
from pathlib import Path

import spacy
from spacy.tokens import DocBin


def test_speed_bench_on_a_blank_pipeline(tmp_path: Path, load_bench) -> None:  # type: ignore[no-untyped-def]
    nlp = spacy.blank("en")
    texts = ["Patients with nephrogenic diabetes insipidus (NDI) were studied. NDI is rare.",
             "No abbreviation here (n = 3)."]
    data = tmp_path / "docs.spacy"
    DocBin(docs=[nlp(t) for t in texts]).to_disk(data)
    module = load_bench("abbreviations_speed")
    out = tmp_path / "speed.json"
    figures = module.main(["--data", str(data), "--rounds", "1", "--output", str(out)])
    assert figures["definitions"] == 1 and figures["short_forms"] == 2
    assert 0 < figures["share_of_pipe"] < 100
    assert json.loads(out.read_text()) == figures
