"""Package meta, metric comparison, and (slow) a real ``spacy package`` wheel installed
into a fresh venv and used from there as a user would."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from spacy.language import Language
from spacy.tokens import DocBin, Span

from spacy_biobert.about import __version__
from spacy_biobert.evaluation import evaluate_corpora
from spacy_biobert.packaging import (
    build_meta,
    compare_metrics,
    install_package,
    linking_kb_meta,
    performance_from_metrics,
)

ROOT = Path(__file__).resolve().parent.parent


def _metrics(tp: int = 8, fp: int = 2, fn: int = 2) -> Dict[str, Any]:
    label = {"p": 80.0, "r": 80.0, "f": 80.0, "tp": tp, "fp": fp, "fn": fn}
    gene = {"p": 50.0, "r": 100.0, "f": 66.67, "tp": 1, "fp": 1, "fn": 0}
    return {"corpora": {"bc5cdr": {"labels": {"CHEMICAL": label}, "micro": label},
                        "bc2gm": {"labels": {"GENE_OR_GENE_PRODUCT": gene}, "micro": gene}},
            "micro": {"p": 75.0, "r": 81.82, "f": 78.26}}


def test_meta_pins_requirements_and_carries_scores_and_sources() -> None:
    base = json.loads((ROOT / "configs" / "meta.json").read_text())
    model_meta = {"performance": {"ents_f": 0.1, "ner_chemical_loss": 3.0, "speed": 10}}
    meta = build_meta(dict(base, requirements=["spacy-biobert>=0.1", "foo>=1"]),
                      model_meta, _metrics())
    assert meta["requirements"][0] == f"spacy-biobert=={__version__}"
    assert meta["requirements"][1].startswith("spacy-transformers>=")
    assert "foo>=1" in meta["requirements"]
    assert sum(r.startswith("spacy-biobert") for r in meta["requirements"]) == 1
    perf = meta["performance"]
    assert perf["ents_f"] == 0.7826 and "ner_chemical_loss" not in perf
    assert perf["ents_per_type"]["CHEMICAL"] == {"p": 0.8, "r": 0.8, "f": 0.8}
    assert perf["ents_per_corpus"]["bc2gm"]["GENE_OR_GENE_PRODUCT"]["r"] == 1.0
    licences = {s["name"]: s["license"] for s in meta["sources"]}
    assert any("MiniLM" in name for name in licences) and all(licences.values())
    assert meta["description"]
    assert 'spacy.load("en_biobert_ner")' in meta["notes"]
    gpu = build_meta(base, model_meta, package="en_biobert_ner_gpu")
    assert 'spacy.load("en_biobert_ner_gpu")' in gpu["notes"] and "{package}" not in gpu["notes"]


def test_meta_names_the_transformer_the_pipeline_holds(tmp_path: Path) -> None:
    from spacy_biobert.packaging import PackagingError, pipeline_transformer

    base = json.loads((ROOT / "configs" / "meta.json").read_text())

    def names(transformer: str) -> List[str]:
        meta = build_meta(base, {}, transformer=transformer)
        assert all("transformer" not in src for src in meta["sources"])
        return [src["name"] for src in meta["sources"]]

    assert any("MiniLM" in n for n in names("embedded"))
    assert not any("BioBERT" in n for n in names("embedded"))
    gpu = names("dmis-lab/biobert-base-cased-v1.2")
    assert any("BioBERT" in n for n in gpu) and not any("MiniLM" in n for n in gpu)
    other = names("my-lab/other-bert")
    assert "transformer my-lab/other-bert" in other and not any("MiniLM" in n for n in other)
    head = "[components]\n[components.transformer]\n[components.transformer.model]\n"
    (tmp_path / "config.cfg").write_text(
        head + '[components.transformer.model.name]\n'
        '@misc = "spacy-biobert.transformer_path.v1"\nchoice = "biobert"\n')
    assert pipeline_transformer(tmp_path) == "biobert"
    (tmp_path / "config.cfg").write_text(head + 'name = "dmis-lab/biobert-base-cased-v1.2"\n')
    assert pipeline_transformer(tmp_path) == "dmis-lab/biobert-base-cased-v1.2"
    with pytest.raises(PackagingError, match="config.cfg"):
        pipeline_transformer(tmp_path / "missing")
    (tmp_path / "config.cfg").write_text("[components.transformer.model]\nname = 1\n")
    with pytest.raises(PackagingError, match="config.cfg"):
        pipeline_transformer(tmp_path)


def test_meta_records_the_kb_mesh_version_and_nlm_terms(tmp_path: Path,
                                                         tiny_kb_file: Path) -> None:
    base = json.loads((ROOT / "configs" / "meta.json").read_text())
    model = tmp_path / "model"
    (model / "entity_linker").mkdir(parents=True)
    shutil.copy(tiny_kb_file, model / "entity_linker" / "kb.bin")
    kb = linking_kb_meta(model, base["linking_kb_notice"])
    assert kb is not None and kb["mesh_version"] == "test-1" and kb["concepts"] == 2
    meta = build_meta(base, {}, linking_kb=kb)
    assert "linking_kb_notice" not in meta
    notice = meta["linking_kb"]["notice"]
    assert "version test-1" in notice and "National Library of Medicine" in notice
    assert "does not endorse" in notice and "Modifications" in notice
    (mesh,) = [s for s in meta["sources"] if s["name"].startswith("Medical Subject Headings")]
    assert mesh["version"] == "test-1" and "nlm.nih.gov" in mesh["license"]
    assert linking_kb_meta(tmp_path, "") is None  # no linker KB in the pipeline
    assert "linking_kb" not in build_meta(base, {})


def test_per_type_sums_counts_over_corpora() -> None:
    metrics = _metrics()
    metrics["corpora"]["ncbi"] = {"labels": {"CHEMICAL": {"p": 0, "r": 0, "f": 0, "tp": 0,
                                                          "fp": 0, "fn": 10}}}
    perf = performance_from_metrics(metrics)
    assert perf["ents_per_type"]["CHEMICAL"]["r"] == round(8 / 20, 4)


def test_relation_scores_go_into_meta() -> None:
    meta = build_meta({}, {}, _metrics(), {"CID": {"p": 0.5, "r": 0.4, "f": 0.44}})
    assert meta["performance"]["relations"]["CID"]["f"] == 0.44


def test_compare_metrics_names_each_difference() -> None:
    assert compare_metrics(_metrics(), _metrics()) == []
    problems = compare_metrics(_metrics(), _metrics(tp=7, fn=3))
    assert problems == ["bc5cdr/CHEMICAL tp: 8 vs 7", "bc5cdr/CHEMICAL fn: 2 vs 3"]
    other = _metrics()
    del other["corpora"]["bc2gm"]
    assert "corpora differ" in compare_metrics(_metrics(), other)[0]


def _cli(*args: str, python: str = sys.executable,
         cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([python, "-I", "-m", "spacy_biobert", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=900)


def test_package_meta_cli_reports_bad_files(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "meta.json").write_text("{}")
    (tmp_path / "metrics.json").write_text("{not json")
    result = _cli("project", "package-meta", str(tmp_path / "model"),
                  str(ROOT / "configs" / "meta.json"), "--metrics", str(tmp_path / "metrics.json"),
                  "-o", str(tmp_path / "m.json"))
    assert result.returncode == 1
    # wasabi wraps long lines: compare with white space collapsed.
    assert "metrics.json is not valid JSON" in " ".join(result.stdout.split())
    result = _cli("project", "compare-metrics", str(tmp_path / "nope.json"),
                  str(tmp_path / "m.json"))
    assert result.returncode == 1 and "nope.json" in " ".join(result.stdout.split())


# --- slow: the real wheel in a fresh venv ---------------------------------------------

PACKAGE = "en_biobert_ner_test"


@pytest.fixture(scope="module")
def installed(trained_nlp: Language, tmp_path_factory: pytest.TempPathFactory
              ) -> Dict[str, Path]:
    """trained_nlp packaged by `spacy package` and installed into one fresh venv."""
    tmp = tmp_path_factory.mktemp("packaging")
    model = tmp / "model"
    trained_nlp.to_disk(model)
    dev = tmp / "dev.spacy"
    docs = []
    for text, ents in [("Lithium and aspirin were given .", [(0, 1), (2, 3)]),
                       ("Rats given cocaine died .", [(2, 3)]),
                       ("BRCA1 rose after aspirin .", [(3, 4)])]:
        doc = trained_nlp.make_doc(text)
        doc.ents = [Span(doc, s, e, label="CHEMICAL") for s, e in ents]
        doc._.corpus, doc._.annotated_labels = "bc5cdr", ("CHEMICAL",)
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(dev)
    reference = tmp / "reference.json"
    reference.write_text(json.dumps(evaluate_corpora(trained_nlp, [dev])))
    meta = tmp / "meta.json"
    result = _cli("project", "package-meta", str(model), str(ROOT / "configs" / "meta.json"),
                  "--metrics", str(reference), "-o", str(meta))
    assert result.returncode == 0, result.stdout + result.stderr
    out = tmp / "packages"
    out.mkdir()
    built = subprocess.run(
        [sys.executable, "-m", "spacy", "package", str(model), str(out), "--name",
         PACKAGE[len("en_"):], "--version", "0.0.1", "--meta-path", str(meta),
         "--build", "sdist,wheel"], capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = next(out.glob(f"*/dist/{PACKAGE}-0.0.1-py3-none-any.whl"))
    assert next(out.glob(f"*/dist/{PACKAGE}-0.0.1.tar.gz")).exists()
    python = install_package(wheel, tmp / "venv", source_dir=ROOT, deps_dir=tmp / "deps")
    return {"python": python, "dev": dev, "reference": reference, "tmp": tmp}


@pytest.mark.slow
def test_installed_package_meta(installed: Dict[str, Path]) -> None:
    code = f"import json, spacy; nlp = spacy.load('{PACKAGE}'); print(json.dumps(nlp.meta))"
    out = subprocess.run([str(installed["python"]), "-I", "-c", code], capture_output=True,
                         text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    meta = json.loads(out.stdout.strip().splitlines()[-1])
    reqs = meta["requirements"]
    assert f"spacy-biobert=={__version__}" in reqs
    assert any(r.startswith("spacy-transformers>=") for r in reqs)
    # spacy package added spaCy itself and no second spacy-biobert range.
    assert any(r.startswith("spacy>=") for r in reqs)
    assert sum(r.startswith("spacy-biobert") for r in reqs) == 1
    assert meta["performance"]["ents_per_corpus"]["bc5cdr"]["CHEMICAL"]["f"] >= 0
    assert meta["sources"]


@pytest.mark.slow
def test_installed_package_works_like_a_user_runs_it(installed: Dict[str, Path]) -> None:
    # From a folder outside the source tree, isolated: only the venv's packages.
    result = _cli("project", "check-installed", PACKAGE, "--source-tree", str(ROOT),
                  python=str(installed["python"]), cwd=installed["tmp"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "nlp.pipe(n_process=2) all work" in " ".join(output.split())
    assert str(ROOT / "spacy_biobert") not in output


@pytest.mark.slow
def test_installed_package_scores_equal_the_trained_pipeline(
        installed: Dict[str, Path]) -> None:
    scores = installed["tmp"] / "installed.json"
    result = _cli("evaluate", PACKAGE, str(installed["dev"]), "--output", str(scores),
                  python=str(installed["python"]), cwd=installed["tmp"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    reference = json.loads(installed["reference"].read_text())
    assert reference["corpora"]["bc5cdr"]["labels"]["CHEMICAL"]["tp"] > 0
    assert compare_metrics(reference, json.loads(scores.read_text())) == []
    result = _cli("project", "compare-metrics", str(installed["reference"]), str(scores))
    assert result.returncode == 0, result.stdout
