"""Optional features without their extra: a clear error naming the extra to install.

A missing library is simulated by ``sys.modules[name] = None`` (what ``import`` reads as
"not installed") and a fresh import of the module that needs it.
"""
import importlib
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spacy_biobert.extras import MissingExtraError, require


def _hide(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make ``modules`` (and their submodules) look uninstalled for this test."""
    for name in list(sys.modules):
        if any(name == m or name.startswith(m + ".") for m in modules):
            monkeypatch.delitem(sys.modules, name)
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _forget(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    """Drop an already imported module so that the next import runs it again."""
    if module in sys.modules:
        monkeypatch.delitem(sys.modules, module)


def test_require_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "sqlalchemy")
    with pytest.raises(MissingExtraError, match=r"pip install 'spacy-biobert\[sql\]'") as err:
        require("sqlalchemy", "sql", "annotate with a database")
    assert "annotate with a database" in str(err.value) and err.value.name == "sqlalchemy"
    assert isinstance(err.value, ImportError)


def test_require_does_not_hide_a_broken_dependency(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    # A package that is installed but fails to import one of *its* dependencies.
    (tmp_path / "brokenpkg").mkdir()
    (tmp_path / "brokenpkg" / "__init__.py").write_text("import not_a_module_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as err:
        require("brokenpkg", "sql", "a feature")
    assert not isinstance(err.value, MissingExtraError)
    assert err.value.name == "not_a_module_xyz"


def test_sql_without_sqlalchemy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _hide(monkeypatch, "sqlalchemy")
    _forget(monkeypatch, "spacy_biobert.io.sql")
    with pytest.raises(MissingExtraError, match=r"spacy-biobert\[sql\]"):
        importlib.import_module("spacy_biobert.io.sql")
    from spacy_biobert.io import open_sink, open_source

    with pytest.raises(MissingExtraError, match=r"spacy-biobert\[sql\]"):
        open_sink(f"sqlite:///{tmp_path / 'out.db'}")
    with pytest.raises(MissingExtraError, match=r"spacy-biobert\[sql\]"):
        open_source(f"sqlite:///{tmp_path / 'in.db'}", table="abstracts")
    # Files need no extra.
    (tmp_path / "in.jsonl").write_text('{"id": "1", "text": "Lithium."}\n')
    assert len(open_source(str(tmp_path / "in.jsonl"))) == 1


def test_annotate_cli_without_sqlalchemy_fails_cleanly(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    _hide(monkeypatch, "sqlalchemy")
    _forget(monkeypatch, "spacy_biobert.io.sql")
    from spacy_biobert.cli import app

    (tmp_path / "in.jsonl").write_text('{"id": "1", "text": "Lithium."}\n')
    result = CliRunner().invoke(app, ["annotate", str(tmp_path / "model"), "--input",
                                      str(tmp_path / "in.jsonl"), "--output",
                                      f"sqlite:///{tmp_path / 'out.db'}"])
    assert result.exit_code == 1
    assert "pip install 'spacy-biobert[sql]'" in result.output
    assert "Traceback" not in result.output


def test_ray_engine_without_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    from spacy_biobert.annotate import _run_ray
    from spacy_biobert.io import AnnotateError

    _hide(monkeypatch, "ray")
    with pytest.raises(AnnotateError, match=r"pip install 'spacy-biobert\[ray\]'"):
        next(iter(_run_ray("model", [], 8, 1, -1, None)))


def test_relation_scores_without_sklearn(monkeypatch: pytest.MonkeyPatch) -> None:
    from spacy_biobert.relations import evaluation

    _hide(monkeypatch, "sklearn")
    with pytest.raises(MissingExtraError, match=r"spacy-biobert\[eval\]"):
        evaluation._auc([0, 1], [0.2, 0.8])


def test_relation_curves_without_matplotlib(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    from spacy_biobert.relations import evaluation

    _hide(monkeypatch, "matplotlib")
    with pytest.raises(MissingExtraError, match=r"spacy-biobert\[eval\]"):
        evaluation.save_curves({}, tmp_path)


def test_evaluate_relations_cli_fails_before_loading(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    from spacy_biobert.cli import app

    _hide(monkeypatch, "sklearn")
    # The model does not exist: the missing extra must be reported first.
    result = CliRunner().invoke(app, ["evaluate-relations", str(tmp_path / "no-model"),
                                      str(tmp_path / "dev.spacy")])
    assert result.exit_code == 1
    assert "pip install 'spacy-biobert[eval]'" in result.output


def test_library_wheel_without_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from spacy_biobert import packaging

    monkeypatch.setattr(packaging, "has_module", lambda name: name != "build")
    with pytest.raises(packaging.PackagingError, match=r"spacy-biobert\[package\]"):
        packaging.build_library_wheel(tmp_path, tmp_path / "deps")
    assert not (tmp_path / "deps").exists()


def test_embedded_transformer_without_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from spacy_biobert import transformers_path

    monkeypatch.setattr(transformers_path, "has_module", lambda name: False)
    assert transformers_path.embedded_transformer_path() == "sentence-transformers/all-MiniLM-L6-v2"


def test_transformer_cli_warns_on_stderr_without_the_embedded_model(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from spacy_biobert import transformers_path
    from spacy_biobert.cli import app

    monkeypatch.setattr(transformers_path, "has_module", lambda name: False)
    result = CliRunner().invoke(app, ["project", "transformer", "embedded"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "sentence-transformers/all-MiniLM-L6-v2"
    assert "pip install 'spacy-biobert[train]'" in result.stderr
