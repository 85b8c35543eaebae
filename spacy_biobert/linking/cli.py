"""Command-line parts of entity linking: ``build-kb`` and ``evaluate-linking``.

Registered on the ``python -m spacy_biobert`` app in :mod:`spacy_biobert.cli`.
"""
import os
import resource
import time
from pathlib import Path
from typing import Any, List, Optional, Tuple

import typer
from wasabi import msg

from .vocab import VocabError


def build_kb_cmd(
    output: Path = typer.Argument(..., help="KB file to write (e.g. corpus/linking_kb.bin)"),
    descriptors: Optional[Path] = typer.Option(
        None, "--descriptors", help="MeSH descriptors TSV (mesh_id_label_mappings.tsv)"),
    supplementary: Optional[Path] = typer.Option(
        None, "--supplementary", help="MeSH supplementary concepts TSV"),
    medic: Optional[Path] = typer.Option(None, "--medic", help="CTD MEDIC file"),
    training: List[Path] = typer.Option(
        [], "--training", "-t", help="Training-split PubTator file (repeatable; never dev/test)"),
    mesh_version: str = typer.Option(..., "--mesh-version",
                                     help="MeSH version, recorded in the KB header"),
) -> None:
    """Build the linking KB from MeSH, MEDIC and training-split annotations."""
    from .kb import build_kb

    start = time.perf_counter()
    try:
        kb = build_kb(descriptors=descriptors, supplementary=supplementary, medic=medic,
                      training=training, mesh_version=mesh_version)
    except VocabError as err:
        msg.fail("Could not build the KB", str(err), exits=1)
        return
    kb.report["build_seconds"] = round(time.perf_counter() - start, 1)
    output.parent.mkdir(parents=True, exist_ok=True)
    kb.to_disk(output)
    retired = kb.report.get("training_ids_not_in_vocabulary", {})
    msg.good(f"Saved KB to {output}: {len(kb.ids)} concepts, aliases {kb.report['aliases']}, "
             f"{kb.report['build_seconds']} s")
    if isinstance(retired, dict) and retired.get("ids"):
        msg.warn(f"{retired['ids']} training id(s) ({retired['mentions']} mentions) are not in "
                 f"the vocabularies (retired or merged), kept as training aliases: "
                 f"{', '.join(retired['examples'][:5])} …")


def current_rss_mb() -> float:
    """Resident memory of this process now (Linux), else its peak."""
    try:
        with open("/proc/self/status", encoding="utf8") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_linker(model_or_kb: str) -> Tuple[Any, Any, float]:
    """A (nlp, linker, load seconds) pair from a KB file or a pipeline with a linker."""
    import spacy

    from .component import EntityLinker
    from .kb import LinkingKB

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if Path(model_or_kb).is_file():
        nlp = spacy.blank("en")
        linker = nlp.add_pipe("biobert_entity_linker")
        assert isinstance(linker, EntityLinker)
        start = time.perf_counter()
        linker.kb = LinkingKB.from_disk(model_or_kb)
        return nlp, linker, time.perf_counter() - start
    start = time.perf_counter()
    nlp = spacy.load(model_or_kb)
    for _name, pipe in nlp.pipeline:
        if isinstance(pipe, EntityLinker):
            return nlp, pipe, time.perf_counter() - start
    raise ValueError(f"{model_or_kb} has no biobert_entity_linker component")


def evaluate_linking_cmd(
    model: str = typer.Argument(..., help="KB file (build-kb) or pipeline with a linker"),
    data: List[Path] = typer.Argument(..., help=".spacy files with gold ids (dev splits)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Metrics JSON"),
    markdown: Optional[Path] = typer.Option(None, "--markdown", help="Metrics Markdown table"),
    threshold: Optional[float] = typer.Option(None, "--threshold",
                                              help="Override the linker's NIL threshold"),
) -> None:
    """Gold-mention accuracy@1 of the entity linker per corpus and label."""
    import gc

    import spacy

    from ..evaluation import save_metrics
    from .evaluation import evaluate_linking, linking_markdown

    spacy.blank("en")  # so that the RSS difference below is the KB's (or the pipeline's)
    rss_before = current_rss_mb()
    try:
        nlp, linker, load_s = load_linker(model)
        if threshold is not None:
            linker.cfg["threshold"] = threshold
        gc.collect()
        rss_kb = current_rss_mb() - rss_before
        metrics = evaluate_linking(nlp, linker, data)
    except (VocabError, OSError, ValueError) as err:
        msg.fail("Linking evaluation failed", str(err), exits=1)
        return
    metrics["cost"].update(load_seconds=round(load_s, 2), loaded_rss_mb=round(rss_kb))
    table = linking_markdown(metrics)
    print(table)
    save_metrics(metrics, table, output, markdown)
    if output is not None:
        msg.good(f"Saved metrics to {output}")
