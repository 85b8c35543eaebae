"""bench/component_costs.py times each component and the load cost of one."""
import importlib.util
import json
from pathlib import Path

import spacy
from spacy.tokens import DocBin

BENCH = Path(__file__).parent.parent / "bench" / "component_costs.py"


def test_component_costs_on_a_small_pipeline(tmp_path: Path) -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("biobert_abbreviation_detector", name="abbreviation_detector")
    nlp.add_pipe("sentencizer")
    model = tmp_path / "model"
    nlp.to_disk(model)
    texts = ["Patients with nephrogenic diabetes insipidus (NDI) were studied. NDI is rare.",
             "No abbreviation here (n = 3)."]
    data = tmp_path / "docs.spacy"
    DocBin(docs=[nlp.make_doc(t) for t in texts]).to_disk(data)
    spec = importlib.util.spec_from_file_location("component_costs", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "costs.json"
    figures = module.main([str(model), "--data", str(data), "--rounds", "1",
                           "--component", "abbreviation_detector", "--output", str(out)])
    assert set(figures["seconds"]) == {"tokenizer", "abbreviation_detector", "sentencizer"}
    assert abs(sum(figures["share_percent"].values()) - 100) < 0.1
    assert figures["docs"] == 2 and figures["load"]["load_s"] > 0
    assert figures["load"]["rss_mb_without"] > 0
    assert json.loads(out.read_text()) == figures
