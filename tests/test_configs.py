"""The shipped training configs: valid, consistent, and CPU/GPU differing only where
they must."""
from pathlib import Path
from typing import Any, Dict, Set, Tuple

import pytest
from thinc.api import Config

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "configs").glob("*.cfg"))
PATHS = {"paths.train": "a.spacy b.spacy", "paths.dev": "c.spacy"}


def _flat(config: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, name + "."))
        else:
            out[name] = value
    return out


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_config_is_valid_and_schedule_matches_budget(path: Path) -> None:
    import spacy

    import spacy_biobert  # noqa: F401

    config = Config().from_disk(path, overrides=PATHS)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == ["transformer", "ner_chemical", "ner_disease", "ner_gene",
                              "ner_species"]
    training = config["training"]
    assert training["optimizer"]["learn_rate"]["total_steps"] == training["max_steps"]
    assert config["components"]["transformer"]["model"]["tokenizer_config"][
        "model_max_length"] == 512
    heads = [nlp.get_pipe(name) for name in nlp.pipe_names[1:]]
    assert sorted(label for head in heads for label in head.cfg["head_labels"]) == [
        "CHEMICAL", "DISEASE", "GENE_OR_GENE_PRODUCT", "SPECIES"]


def test_cpu_and_gpu_profiles_differ_only_where_they_must() -> None:
    cpu = _flat(Config().from_disk(ROOT / "configs" / "ner_cpu.cfg", interpolate=False))
    gpu = _flat(Config().from_disk(ROOT / "configs" / "ner_gpu.cfg", interpolate=False))
    allowed: Set[str] = {
        "system.gpu_allocator",
        "components.transformer.model.name",
        "components.transformer.model.name.@misc",
        "components.transformer.model.mixed_precision",
        "components.transformer.model.tokenizer_config.do_lower_case",
        "training.max_steps",
        "training.eval_frequency",
        "training.batcher.size",
        "training.optimizer.learn_rate.warmup_steps",
        "training.optimizer.learn_rate.total_steps",
        "training.optimizer.learn_rate.initial_rate",
    }
    differing: Set[str] = {k for k in set(cpu) | set(gpu) if cpu.get(k) != gpu.get(k)}
    assert differing <= allowed, sorted(differing - allowed)
    pair: Tuple[Any, Any] = (gpu["components.transformer.model.name"],
                             gpu["components.transformer.model.tokenizer_config.do_lower_case"])
    assert pair == ("dmis-lab/biobert-base-cased-v1.2", False)
    assert gpu["components.transformer.model.mixed_precision"] is True
