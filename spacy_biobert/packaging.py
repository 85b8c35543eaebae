"""Shipping ``en_biobert_ner``: package metadata, a fresh venv with the wheel installed,
and the checks that the *installed* package behaves like ``training/model-best``.

The project's ``package`` step writes the meta (:func:`build_meta`) and runs
``spacy package``; ``install-package`` creates a venv that sees neither the source
tree nor the development venv and installs the wheel there (torch first, then the
model wheel, with ``spacy-biobert`` built from this tree into ``--find-links`` since it
is not on PyPI); ``evaluate-package`` scores the installed package on the dev sets and
:func:`compare_metrics` requires the counts to equal those of ``training/model-best``.
"""
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any, Dict, List, Optional

import typer
from wasabi import msg

from .about import __version__
from .extras import has_module, install_hint
from .linking.vocab import VocabError

#: Installed into the fresh venv before the model wheel, so that the wheel's open torch
#: range is met by the CPU build the project is tested with instead of the default
#: (multi-GB CUDA) build.
TORCH_REQUIREMENT = "torch==2.13.0"

#: Counts compared between the reference and the installed package's metrics.
COUNT_KEYS = ("tp", "fp", "fn")


class PackagingError(RuntimeError):
    """A packaging step failed; the message says which and why."""


def _minor_range(dist: str) -> str:
    from spacy.util import get_minor_version_range, get_package_version

    version = get_package_version(dist)
    if version is None:
        raise PackagingError(f"{dist} is not installed; it is needed to write the package meta")
    return f"{dist}{get_minor_version_range(version)}"


def performance_from_metrics(metrics: Dict[str, Any]) -> Dict[str, Any]:
    """The meta's ``performance`` block from ``python -m spacy_biobert evaluate`` output.

    Top-level ``ents_p/r/f`` are the micro scores over every corpus (0-1, as spaCy
    writes them), ``ents_per_type`` the per-label scores summed over corpora, and
    ``ents_per_corpus`` the per-corpus, per-label scores as evaluated.
    """
    per_type: Dict[str, Dict[str, int]] = {}
    per_corpus: Dict[str, Any] = {}
    for corpus, data in metrics.get("corpora", {}).items():
        per_corpus[corpus] = {label: {k: round(v[k] / 100, 4)
                                      for k in ("p", "r", "f")}
                              for label, v in data["labels"].items()}
        for label, scores in data["labels"].items():
            counts = per_type.setdefault(label, {"tp": 0, "fp": 0, "fn": 0})
            for key in COUNT_KEYS:
                counts[key] += int(scores[key])
    micro = metrics.get("micro", {})
    return {
        "ents_p": round(micro.get("p", 0.0) / 100, 4),
        "ents_r": round(micro.get("r", 0.0) / 100, 4),
        "ents_f": round(micro.get("f", 0.0) / 100, 4),
        "ents_per_type": {label: _prf(counts) for label, counts in sorted(per_type.items())},
        "ents_per_corpus": per_corpus,
    }


def _prf(counts: Dict[str, int]) -> Dict[str, float]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f": round(f, 4)}


#: Name of the MeSH entry of ``configs/meta.json``'s sources (gets the KB's MeSH version).
MESH_SOURCE = "Medical Subject Headings (MeSH)"


def linking_kb_meta(model: Path, notice: str) -> Optional[Dict[str, Any]]:
    """The meta's ``linking_kb`` block for the KB saved in a pipeline (None if none).

    model (Path): The pipeline folder; its ``*/kb.bin`` is the entity linker's KB.
    notice (str): The NLM notice of ``configs/meta.json`` (``{mesh_version}`` filled in).
    """
    from .linking.kbfile import read_header

    files = sorted(model.glob("*/kb.bin"))
    if not files:
        return None
    header = read_header(files[0])
    report = header.get("report") or {}
    version = str(header.get("mesh_version", "unknown"))
    return {"file": files[0].relative_to(model).as_posix(), "mesh_version": version,
            "concepts": report.get("concepts"), "notice": notice.format(mesh_version=version)}


def transformer_kind(name: str) -> str:
    """``minilm``, ``biobert`` or the name itself: which transformer a pipeline holds."""
    lowered = name.lower()
    if lowered in ("embedded", "") or "minilm" in lowered:
        return "minilm"
    if "biobert" in lowered:
        return "biobert"
    return name


def pipeline_transformer(model: Path) -> str:
    """The transformer name of a pipeline's config (a hub name, a folder, or the
    ``choice`` of ``spacy-biobert.transformer_path.v1``); "" when it has none."""
    from thinc.api import Config

    path = model / "config.cfg"
    if not path.is_file():
        raise PackagingError(f"{path}: no such file (is {model} a trained pipeline?)")
    try:
        config = Config().from_disk(path, interpolate=False)
    except Exception as err:  # confection's parse and validation errors
        raise PackagingError(f"{path}: not a readable pipeline config ({err})") from err
    node = config.get("components", {}).get("transformer", {}).get("model", {}).get("name", "")
    if isinstance(node, dict):
        return str(node.get("choice", "embedded" if "embedded" in str(node.get("@misc"))
                            else node.get("@misc", "")))
    return str(node)


def _sources(base: Dict[str, Any], transformer: str) -> List[Dict[str, Any]]:
    """``base``'s sources with only the transformer entry of ``transformer``'s kind."""
    kind = transformer_kind(transformer)
    sources = [{k: v for k, v in src.items() if k != "transformer"}
               for src in base.get("sources", []) if src.get("transformer", kind) == kind]
    if not any(src.get("transformer") == kind for src in base.get("sources", [])):
        sources.append({"name": f"transformer {transformer}",
                        "license": "see the transformer's own licence"})
    return sources


def build_meta(base: Dict[str, Any], model_meta: Dict[str, Any],
               ner_metrics: Optional[Dict[str, Any]] = None,
               rel_metrics: Optional[Dict[str, Any]] = None,
               linking_kb: Optional[Dict[str, Any]] = None,
               package: str = "en_biobert_ner", transformer: str = "embedded") -> Dict[str, Any]:
    """The meta passed to ``spacy package --meta-path``.

    ``spacy package`` starts from the pipeline's own meta, updates it with this one, and
    then appends third-party requirements it finds in the config (spacy-transformers,
    spacy-biobert) unless a requirement of that name is already here, plus ``spacy``
    itself. We pin ``spacy-biobert`` to this exact version (the pipeline's components
    are its code) and give spacy-transformers the minor range of the version it was
    trained with, as ``spacy package`` would.

    base (Dict[str, Any]): ``configs/meta.json`` (description, sources, licences).
    model_meta (Dict[str, Any]): The trained pipeline's ``meta.json``.
    ner_metrics (Optional[Dict[str, Any]]): Full dev-set scores (``evaluate`` output);
        replaces the training-time ``performance`` (scored on a dev sample).
    rel_metrics (Optional[Dict[str, Any]]): Relation scores to include, if any.
    linking_kb (Optional[Dict[str, Any]]): :func:`linking_kb_meta` of the pipeline: its
        MeSH version goes into the MeSH source entry and the block (with NLM's notice)
        into ``linking_kb``; without it the notice is dropped.
    package (str): The installed package's name; fills ``{package}`` in ``notes``.
    transformer (str): The pipeline's transformer (:func:`pipeline_transformer`): of the
        sources tagged ``transformer`` in ``base``, only its kind's entry is kept.
    RETURNS (Dict[str, Any]): The meta.
    """
    meta = dict(base)
    meta["sources"] = _sources(base, transformer)
    meta.pop("linking_kb_notice", None)
    if "notes" in meta:
        meta["notes"] = str(meta["notes"]).replace("{package}", package)
    if linking_kb is not None:
        meta["linking_kb"] = linking_kb
        meta["sources"] = [dict(src, version=linking_kb["mesh_version"])
                           if src.get("name", "").startswith(MESH_SOURCE) else src
                           for src in meta["sources"]]
    performance = dict(model_meta.get("performance", {}))
    if ner_metrics is not None:
        # Training losses and sampled-dev scores would only confuse next to these.
        performance = {k: v for k, v in performance.items() if not k.startswith("ents")}
        performance = {k: v for k, v in performance.items() if not k.endswith("_loss")}
        performance.update(performance_from_metrics(ner_metrics))
    if rel_metrics is not None:
        performance["relations"] = rel_metrics
    meta["performance"] = performance
    pinned = [f"spacy-biobert=={__version__}", _minor_range("spacy-transformers")]
    names = {req.split("=")[0].split(">")[0].split("<")[0].strip().lower()
             for req in pinned}
    others = [r for r in base.get("requirements", [])
              if r.split("=")[0].split(">")[0].split("<")[0].strip().lower() not in names]
    meta["requirements"] = pinned + others
    return meta


def compare_metrics(reference: Dict[str, Any], candidate: Dict[str, Any]) -> List[str]:
    """Differences between two ``evaluate`` outputs (empty when every count agrees)."""
    problems = []
    ref_corpora = reference.get("corpora", {})
    cand_corpora = candidate.get("corpora", {})
    if set(ref_corpora) != set(cand_corpora):
        problems.append(f"corpora differ: {sorted(ref_corpora)} vs {sorted(cand_corpora)}")
    for corpus in sorted(set(ref_corpora) & set(cand_corpora)):
        ref_labels = ref_corpora[corpus]["labels"]
        cand_labels = cand_corpora[corpus]["labels"]
        for label in sorted(set(ref_labels) | set(cand_labels)):
            a, b = ref_labels.get(label), cand_labels.get(label)
            if a is None or b is None:
                problems.append(f"{corpus}/{label}: only in one of the two")
                continue
            for key in COUNT_KEYS:
                if a[key] != b[key]:
                    problems.append(f"{corpus}/{label} {key}: {a[key]} vs {b[key]}")
    return problems


def venv_python(venv_dir: Path) -> Path:
    """The interpreter of a venv (POSIX or Windows layout)."""
    for rel in ("bin/python", "Scripts/python.exe"):
        path = Path(venv_dir) / rel
        if path.exists():
            return path
    raise PackagingError(f"{venv_dir} is not a venv (no bin/python)")


def _run(cmd: List[str], what: str, cwd: Optional[Path] = None) -> None:
    msg.text(f"$ {' '.join(str(c) for c in cmd)}")
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    # The fresh venv must not see this process's packages or the source tree.
    env.pop("PYTHONPATH", None)
    result = subprocess.run(cmd, cwd=cwd, env=env)
    if result.returncode != 0:
        raise PackagingError(f"{what} failed (exit {result.returncode}): {' '.join(cmd)}")


def build_library_wheel(source_dir: Path, outdir: Path) -> Path:
    """Build the spacy-biobert wheel from ``source_dir`` into ``outdir``."""
    if not has_module("build"):
        raise PackagingError("building the spacy-biobert wheel needs the Python package "
                             f"'build', which is not installed: {install_hint('package')}")
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("spacy_biobert-*.whl"):
        old.unlink()
    # An isolated build, as tests/run.sh builds it: the build requirements come from
    # the package index, whatever this venv happens to carry.
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir),
          str(source_dir)], "building the spacy-biobert wheel")
    wheels = sorted(outdir.glob("spacy_biobert-*.whl"))
    if not wheels:
        raise PackagingError(f"no spacy_biobert wheel appeared in {outdir}")
    return wheels[-1]


def install_package(wheel: Path, venv_dir: Path, *, source_dir: Path,
                    deps_dir: Path, extra: Optional[List[str]] = None) -> Path:
    """Create ``venv_dir`` afresh and install the model wheel into it.

    Order: pip's own torch pin first (the CPU build), then the model wheel, which pulls
    ``spacy-biobert==<version>`` from ``deps_dir`` (built from ``source_dir``) and the
    rest from the package index.

    RETURNS (Path): The venv's python.
    """
    wheel = Path(wheel)
    if not wheel.is_file():
        raise PackagingError(f"{wheel}: no such wheel (run `spacy project run package`)")
    library = build_library_wheel(source_dir, deps_dir)
    if venv_dir.exists():
        shutil.rmtree(venv_dir)
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    python = venv_python(venv_dir)
    pip = [str(python), "-m", "pip", "install", "-q"]
    _run(pip + [TORCH_REQUIREMENT], "installing torch")
    _run(pip + ["--find-links", str(deps_dir.resolve()), str(wheel.resolve())]
         + list(extra or []), "installing the model package")
    msg.good(f"Installed {wheel.name} (+ {library.name}) into {venv_dir}")
    return python


def install_package_cmd(
    wheel: Path = typer.Argument(..., help="The en_biobert_ner wheel (spacy package output)"),
    venv_dir: Path = typer.Option(Path("packages/venv"), "--venv",
                                  help="The venv to create (removed first if it exists)"),
    source_dir: Path = typer.Option(Path("."), "--source",
                                    help="spacy-biobert source tree to build the library from"),
    deps_dir: Path = typer.Option(Path("packages/deps"), "--deps",
                                  help="Where the spacy-biobert wheel is built (--find-links)"),
    extra: Optional[List[str]] = typer.Option(None, "--extra",
                                              help="Further requirements to install"),
) -> None:
    """Install the model wheel into a fresh venv (no source tree on its path)."""
    try:
        install_package(wheel, venv_dir, source_dir=source_dir, deps_dir=deps_dir,
                        extra=extra)
    except PackagingError as err:
        msg.fail("install-package failed", str(err), exits=1)


def package_meta_cmd(
    model: Path = typer.Argument(..., help="The trained pipeline (training/model-best)"),
    base: Path = typer.Argument(..., help="configs/meta.json (description, sources)"),
    output: Path = typer.Option(..., "--output", "-o", help="Meta JSON for spacy package"),
    metrics: Optional[Path] = typer.Option(None, "--metrics",
                                           help="Full dev-set NER scores (evaluate output)"),
    rel_metrics: Optional[Path] = typer.Option(None, "--relation-metrics",
                                               help="Relation scores JSON (if any)"),
    package: str = typer.Option("en_biobert_ner", "--package",
                                help="Name users load the package by (fills the notes)"),
) -> None:
    """Write the package meta: sources, licences, scores, pinned requirements."""
    files = {"model meta": model / "meta.json", "base meta": base, "metrics": metrics,
             "relation metrics": rel_metrics}
    loaded: Dict[str, Any] = {}
    for name, path in files.items():
        if path is None:
            continue
        if not Path(path).is_file():
            msg.fail(f"{name}: no such file {path}", exits=1)
        try:
            loaded[name] = json.loads(Path(path).read_text(encoding="utf8"))
        except json.JSONDecodeError as err:
            msg.fail(f"{name}: {path} is not valid JSON ({err})", exits=1)
    try:
        kb = linking_kb_meta(model, loaded["base meta"].get("linking_kb_notice", ""))
        meta = build_meta(loaded["base meta"], loaded["model meta"], loaded.get("metrics"),
                          loaded.get("relation metrics"), kb, package,
                          pipeline_transformer(model))
        if kb is not None:
            msg.info(f"Linking KB {kb['file']}: MeSH {kb['mesh_version']}")
    except (PackagingError, VocabError) as err:
        msg.fail("package-meta failed", str(err), exits=1)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf8")
    msg.good(f"Wrote {output} (requirements: {', '.join(meta['requirements'])})")


def compare_metrics_cmd(
    reference: Path = typer.Argument(..., help="Metrics of training/model-best"),
    candidate: Path = typer.Argument(..., help="Metrics of the installed package"),
) -> None:
    """Fail unless two evaluate outputs have the same counts for every corpus and label."""
    for path in (reference, candidate):
        if not path.is_file():
            msg.fail(f"No metrics file {path}", exits=1)
    problems = compare_metrics(json.loads(reference.read_text()),
                               json.loads(candidate.read_text()))
    if problems:
        msg.fail(f"{candidate} differs from {reference}", "\n".join(problems), exits=1)
    ref = json.loads(reference.read_text())
    msg.good(f"Installed package scores equal {reference}: micro F1 {ref['micro']['f']}")


SMOKE_TEXTS = [
    "Famotidine-associated delirium: a series of six cases.",
    "Mutations in BRCA1 increase breast cancer risk in women and in mice.",
    "Lithium carbonate was given to patients with bipolar disorder.",
    "The p53 protein is lost in many tumours.",
]


def check_installed(name: str, *, n_process: int = 2, timeout: int = 300) -> Dict[str, Any]:
    """Load an installed package by name and use it as a user would.

    Runs ``nlp(text)``, then ``nlp.pipe(texts, n_process=...)`` *after* that inference
    (the case that used to hang in forked workers) under a deadline, and requires the
    multi-process entities to equal the single-process ones.

    RETURNS (Dict[str, Any]): What was checked (module paths, entities, relation counts).
    """
    import multiprocessing
    import signal

    import spacy

    import spacy_biobert

    spacy_biobert.install_extensions()
    spacy_biobert.install_fork_hook()  # nlp.pipe(n_process=...) below forks after inference
    nlp = spacy.load(name)
    doc = nlp(SMOKE_TEXTS[0])
    if not isinstance(doc._.relations, list):
        raise PackagingError("doc._.relations is not a list")
    single = [[(e.text, e.label_) for e in d.ents] for d in nlp.pipe(SMOKE_TEXTS)]

    def expire(signum: int, frame: Any) -> None:
        for proc in multiprocessing.active_children():
            proc.kill()
        raise PackagingError(f"nlp.pipe(n_process={n_process}) not done in {timeout} s")

    previous = signal.signal(signal.SIGALRM, expire) if hasattr(signal, "SIGALRM") else None
    if previous is not None:
        signal.alarm(timeout)
    try:
        multi = [[(e.text, e.label_) for e in d.ents]
                 for d in nlp.pipe(SMOKE_TEXTS, batch_size=2, n_process=n_process)]
    finally:
        if previous is not None:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    if multi != single:
        raise PackagingError(f"n_process={n_process} gave {multi}, one process {single}")
    return {
        "package": nlp.meta.get("name"),
        "version": nlp.meta.get("version"),
        "pipeline": nlp.pipe_names,
        "spacy_biobert": str(Path(spacy_biobert.__file__).parent),
        "package_path": str(nlp.path) if nlp.path else None,
        "ents": single,
        "relations": [len(d._.relations) for d in nlp.pipe(SMOKE_TEXTS)],
    }


def check_installed_cmd(
    name: str = typer.Argument("en_biobert_ner", help="Installed package name"),
    source_tree: Optional[Path] = typer.Option(
        None, "--source-tree", help="Fail if spacy_biobert is imported from this tree"),
    n_process: int = typer.Option(2, "--n-process"),
) -> None:
    """Use the installed package as a user would: load, annotate, nlp.pipe(n_process=2)."""
    try:
        report = check_installed(name, n_process=n_process)
    except (PackagingError, OSError) as err:
        msg.fail(f"check-installed {name} failed", str(err), exits=1)
        return
    if source_tree is not None:
        imported = Path(report["spacy_biobert"]).resolve()
        if imported == (source_tree / "spacy_biobert").resolve():
            msg.fail(f"spacy_biobert was imported from the source tree {imported}", exits=1)
    prefix = Path(sys.prefix).resolve()
    if report["package_path"] and not Path(report["package_path"]).resolve().is_relative_to(
            prefix):
        msg.fail(f"{name} was loaded from {report['package_path']}, outside {prefix}",
                 exits=1)
    for key, value in report.items():
        msg.text(f"{key}: {value}")
    msg.good(f"{name}: spacy.load, nlp(text), nlp.pipe(n_process={n_process}) all work")
