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
    assert nlp.pipe_names == ["transformer", "ner_species", "ner_chemical", "ner_disease",
                              "ner_gene", "species_dictionary", "entity_propagator",
                              "abbreviation_detector",
                              "entity_linker", "relation_extractor", "doc_cleaner"]
    assert config["initialize"]["components"]["entity_linker"]["kb_path"] == \
        "corpus/linking_kb.bin"
    assert config["initialize"]["components"]["species_dictionary"]["mesh_descriptors"] == \
        "assets/mesh/mesh_id_label_mappings.tsv"
    detector = nlp.get_pipe("abbreviation_detector")
    assert detector.label_short_forms is True and detector.labels == {"CHEMICAL", "DISEASE"}
    training = config["training"]
    assert training["optimizer"]["learn_rate"]["total_steps"] == training["max_steps"]
    assert config["components"]["transformer"]["model"]["tokenizer_config"][
        "model_max_length"] == 512
    heads = [nlp.get_pipe(name) for name in nlp.pipe_names if name.startswith("ner_")]
    relations = nlp.get_pipe("relation_extractor")
    assert relations.labels == ("CID",) and relations.cfg["type_pairs"] == [
        ["CHEMICAL", "DISEASE"]]
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
        # inference batching: small groups are faster on CPU, a GPU wants large ones
        "components.transformer.max_batch_items",
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


def test_missing_kb_file_is_an_error_naming_the_setting(tmp_path: Path) -> None:
    import spacy

    import spacy_biobert  # noqa: F401

    overrides = dict(PATHS, **{"paths.kb": str(tmp_path / "none.bin")})
    config = Config().from_disk(ROOT / "configs" / "ner_cpu.cfg", overrides=overrides)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    linker = nlp.get_pipe("entity_linker")
    with pytest.raises(ValueError, match=r"none\.bin not found.*initialize\.components\."
                                         r"entity_linker\] kb_path"):
        linker.initialize(lambda: [], nlp=nlp,
                          **config["initialize"]["components"]["entity_linker"])


def test_gpu_profile_initializes_and_runs_on_a_tiny_local_bert(tiny_bert: Path,
                                                               tiny_kb_file: Path,
                                                               tiny_mesh_file: Path) -> None:
    """The BioBERT config, with the hub name swapped for a local tiny BERT (no download
    here) and mixed precision off (no CUDA here), builds, initializes and annotates."""
    import spacy
    from spacy.tokens import Span
    from spacy.training import Example

    from spacy_biobert.extensions import install_extensions

    install_extensions()
    overrides = dict(PATHS)
    overrides["components.transformer.model.name"] = str(tiny_bert)
    overrides["components.transformer.model.mixed_precision"] = False
    overrides["paths.kb"] = str(tiny_kb_file)
    overrides["paths.mesh"] = str(tiny_mesh_file)
    config = Config().from_disk(ROOT / "configs" / "ner_gpu.cfg", overrides=overrides)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = []
    for text, label, corpus in [("Aspirin caused bleeding .", "CHEMICAL", "bc5cdr"),
                                ("Aspirin caused asthma .", "DISEASE", "bc5cdr"),
                                ("BRCA1 is mutated .", "GENE_OR_GENE_PRODUCT", "bc2gm"),
                                ("Mice were used .", "SPECIES", "linnaeus")]:
        ref = nlp.make_doc(text)
        ref.ents = [Span(ref, 0, 1, label=label)] if label != "DISEASE" else [
            Span(ref, 2, 3, label=label)]
        ref._.corpus = corpus
        ref._.annotated_labels = ("CHEMICAL", "DISEASE") if corpus == "bc5cdr" else (label,)
        examples.append(Example(nlp.make_doc(text), ref))
    optimizer = nlp.initialize(lambda: examples)
    losses: Dict[str, float] = {}
    nlp.update(examples, sgd=optimizer, losses=losses)
    assert losses["transformer"] > 0
    # The last component drops the transformer output; with it disabled the Doc keeps it.
    assert nlp.pipe_names[-1] == "doc_cleaner"
    assert nlp("Aspirin and BRCA1 in mice .")._.trf_data is None
    doc = next(nlp.pipe(["Aspirin and BRCA1 in mice ."], disable=["doc_cleaner"]))
    assert len(doc) == 6 and doc._.trf_data is not None
    assert nlp.get_pipe("entity_linker").kb.mesh_version == "test-1"  # paths.kb was read
    # paths.mesh was read: a MeSH binomial no training text contains is a name
    assert ("pseudomonas", "aeruginosa") in nlp.get_pipe("species_dictionary").names
    # Cased: the tiny vocabulary is lower-case only, so "Aspirin" is unknown as written.
    pieces = [p for window in doc._.trf_data.wordpieces.strings for p in window]
    assert pieces[:3] == ["[CLS]", "[UNK]", "a"]  # Aspirin unknown; "and" -> a ##n ##d
