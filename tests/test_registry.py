"""Registered functions and entry points agree: setup.py, installed metadata, registry."""
import ast
import importlib
import importlib.metadata
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest
import spacy
import spacy_transformers  # noqa: F401  (adds registry.span_getters)
from spacy.language import Language

import spacy_biobert

PREFIX = "spacy-biobert."
#: Component factories are named like spaCy's own ("ner"), without the prefix.
FACTORIES = "spacy_factories"


def registry_name(group: str) -> str:
    return group[len("spacy_"):]


def resolve(group: str, name: str):  # type: ignore[no-untyped-def]
    """What spaCy resolves a name of an entry-point group to.

    ``spacy_factories`` entry points feed ``Language.factory``: spaCy imports them
    when a ``Language`` is created, and the factory lands in ``registry.factories``.
    """
    if group == FACTORIES:
        spacy.blank("en")
        assert Language.has_factory(name), name
        return spacy.registry.factories.get(name)
    return spacy.registry.get(registry_name(group), name)


def setup_entry_points(repo_root: Path) -> Dict[str, List[Tuple[str, str]]]:
    """ENTRY_POINTS of setup.py, read with ``ast`` (setup.py is not executed)."""
    tree = ast.parse((repo_root / "setup.py").read_text(encoding="utf8"))
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "ENTRY_POINTS"):
            value = ast.literal_eval(node.value)
            break
    else:
        raise AssertionError("setup.py defines no ENTRY_POINTS dict")
    out: Dict[str, List[Tuple[str, str]]] = {}
    for group, lines in value.items():
        for line in lines:
            name, target = (part.strip() for part in line.split("=", 1))
            out.setdefault(group, []).append((name, target))
    return out


@pytest.fixture(scope="module")
def entry_points(repo_root: Path) -> Dict[str, List[Tuple[str, str]]]:
    eps = setup_entry_points(repo_root)
    assert eps, "ENTRY_POINTS is empty"
    return eps


def import_all_submodules() -> List[str]:
    names = []
    for info in pkgutil.walk_packages(spacy_biobert.__path__, prefix="spacy_biobert."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return names


def registered_names() -> Set[Tuple[str, str]]:
    """(entry-point group, name) of every function the package registers: by the
    name prefix, or (factories) by the module that defines it."""
    import_all_submodules()
    found = set()
    for reg_name in spacy.registry.get_registry_names():
        if reg_name.startswith("_"):
            continue
        registry = getattr(spacy.registry, reg_name)
        for name, func in registry.get_all().items():
            module = getattr(func, "__module__", "") or ""
            if name.startswith(PREFIX) or module.split(".")[0] == "spacy_biobert":
                found.add((f"spacy_{reg_name}", name))
    return found


def test_entry_points_are_well_formed(entry_points: Dict[str, List[Tuple[str, str]]]) -> None:
    for group, items in entry_points.items():
        assert group.startswith("spacy_"), group
        assert hasattr(spacy.registry, registry_name(group)), group
        for name, target in items:
            if group == FACTORIES:
                assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
            else:
                assert name.startswith(PREFIX), name
            module, _, func = target.partition(":")
            assert module.startswith("spacy_biobert.") and func, target


def test_entry_points_installed(entry_points: Dict[str, List[Tuple[str, str]]]) -> None:
    """(a) The environment's metadata carries every entry point of setup.py."""
    installed = importlib.metadata.entry_points()
    for group, items in entry_points.items():
        have = {ep.name: ep.value for ep in installed.select(group=group)}
        for name, target in items:
            assert name in have, f"{group}: {name} not installed (pip install -e . again)"
            assert have[name] == target, f"{group}: {name} -> {have[name]}, setup.py: {target}"


def test_entry_points_resolve_through_registry(
    entry_points: Dict[str, List[Tuple[str, str]]]
) -> None:
    """(b) spacy.registry finds every name, as the same function the entry point loads."""
    installed = importlib.metadata.entry_points()
    for group, items in entry_points.items():
        eps = {ep.name: ep for ep in installed.select(group=group)}
        for name, target in items:
            func = resolve(group, name)
            assert func is eps[name].load(), name
            module, _, attr = target.partition(":")
            assert func is getattr(importlib.import_module(module), attr), name


def test_every_registered_function_has_an_entry_point(
    entry_points: Dict[str, List[Tuple[str, str]]]
) -> None:
    """(c) A decorator without an entry point would need ``--code`` in ``spacy train``."""
    declared = {(group, name) for group, items in entry_points.items() for name, _ in items}
    found = registered_names()
    assert found, "no spacy-biobert functions registered at all"
    missing = sorted(found - declared)
    assert not missing, f"registered but not in setup.py ENTRY_POINTS: {missing}"
    # every entry point also has a decorator (found after importing all modules)
    assert declared <= found, sorted(declared - found)


def test_all_submodules_import() -> None:
    names = import_all_submodules()
    assert "spacy_biobert.corpora.pubtator" in names
    assert "spacy_biobert.tokenizer" in names


def test_embedded_transformer_path() -> None:
    func = spacy.registry.misc.get("spacy-biobert.embedded_transformer_path.v1")
    folder = Path(func())
    assert folder.is_dir()
    assert (folder / "config.json").is_file()
    assert (folder / "vocab.txt").is_file()


RESOLVE_FRESH = """
import json, sys
import spacy
from spacy.language import Language
out = {}
for group, name in json.loads(sys.argv[1]):
    if group == "spacy_factories":
        spacy.blank("en")
        ok = Language.has_factory(name)
        func = spacy.registry.factories.get(name) if ok else None
    else:
        func = spacy.registry.get(group[len("spacy_"):], name)
    out[name] = f"{func.__module__}:{func.__name__}" if func is not None else None
print(json.dumps(out))
"""


def test_entry_points_found_without_importing_the_package(
    entry_points: Dict[str, List[Tuple[str, str]]]
) -> None:
    """What ``spacy train`` sees without ``--code``: a fresh interpreter that never
    imports spacy_biobert itself finds every name through the entry points."""
    pairs = [(group, name) for group, items in entry_points.items() for name, _ in items]
    proc = subprocess.run(
        [sys.executable, "-c", RESOLVE_FRESH, json.dumps(pairs)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    for group, items in entry_points.items():
        for name, target in items:
            assert got[name] == target, (group, name, got[name])
