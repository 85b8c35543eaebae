"""bench/component_costs.py times each component and the load cost of one."""
import json
from pathlib import Path

import spacy
from spacy.tokens import DocBin


def test_component_costs_on_a_small_pipeline(tmp_path: Path, load_bench) -> None:  # type: ignore[no-untyped-def]
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_abbreviation_detector", name="abbreviation_detector")
    nlp.add_pipe("sentencizer")
    model = tmp_path / "model"
    nlp.to_disk(model)
    texts = ["Patients with nephrogenic diabetes insipidus (NDI) were studied. NDI is rare.",
             "No abbreviation here (n = 3)."]
    data = tmp_path / "docs.spacy"
    DocBin(docs=[nlp.make_doc(t) for t in texts]).to_disk(data)
    module = load_bench("component_costs")
    out = tmp_path / "costs.json"
    figures = module.main([str(model), "--data", str(data), "--rounds", "1",
                           "--component", "abbreviation_detector", "--output", str(out)])
    assert set(figures["seconds"]) == {"tokenizer", "abbreviation_detector", "sentencizer"}
    assert abs(sum(figures["share_percent"].values()) - 100) < 0.1
    assert figures["docs"] == 2 and figures["load"]["load_s"] > 0
    assert figures["load"]["rss_mb_without"] > 0
    assert json.loads(out.read_text()) == figures
