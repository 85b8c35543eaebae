"""Command line: ``python -m spacy_biobert <command> --help``."""
import json
import logging
import sys
from pathlib import Path
from typing import Dict, List, Optional

import typer
from wasabi import msg

from .about import __version__
from .corpora.base import ConversionReport, CorpusError

app = typer.Typer(
    name="spacy_biobert",
    help="Biomedical NER and relations for spaCy: corpora, evaluation, annotation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
#: Project plumbing: the steps ``spacy project run`` calls, not needed to use a pipeline.
project_app = typer.Typer(
    name="project",
    help="Steps of the spaCy project: assets, transformer choice, packaging checks.",
    no_args_is_help=True,
)
app.add_typer(project_app, name="project")


def _parse_label_map(items: Optional[List[str]]) -> Dict[str, str]:
    mapping: Dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise typer.BadParameter(f"--label-map expects TYPE=LABEL, got {item!r}")
        key, value = item.split("=", 1)
        mapping[key.strip()] = value.strip()
    return mapping


def blank_biomedical(lang: str = "en"):  # type: ignore[no-untyped-def]
    """A blank pipeline with the biomedical tokenizer, as the configs build it."""
    import spacy

    from .tokenizer import biomedical_tokenizer

    nlp = spacy.blank(lang)
    nlp.tokenizer = biomedical_tokenizer(nlp)
    return nlp


def print_report(report: ConversionReport, title: str) -> None:
    """Print a conversion summary as tables."""
    msg.divider(title)
    rows = [
        ("documents", report.docs),
        ("sentences", report.sentences),
        ("mentions", report.mentions),
        ("aligned to tokens", f"{report.aligned} ({report.alignment_rate:.2%})"),
        ("repaired (expanded) spans", report.repaired),
    ]
    msg.table(rows, aligns=("l", "r"))
    if report.entities:
        msg.table(sorted(report.entities.items()), header=("label", "mentions"), aligns=("l", "r"))
    if report.source_types:
        msg.table(sorted(report.source_types.items()), header=("source type", "mentions"),
                  aligns=("l", "r"))
    if report.relations:
        msg.table(sorted(report.relations.items()), header=("relation", "count"),
                  aligns=("l", "r"))
    if report.ignored:
        msg.table(sorted(report.ignored.items()), header=("skipped type (--label-map)", "count"),
                  aligns=("l", "r"))
    if report.warnings:
        msg.warn(f"{sum(report.warnings.values())} warning(s), kept and counted "
                 "(--strict turns them into errors)")
        msg.table(sorted(report.warnings.items()), header=("warning", "count"),
                  aligns=("l", "r"))
        for line in report.examples[:10]:
            msg.text(f"  {line}")


@app.command("convert")
def convert_cmd(
    fmt: str = typer.Argument(..., metavar="FORMAT", help="pubtator, conll, bioc or brat"),
    input_path: Path = typer.Argument(..., metavar="INPUT",
                                      help="Corpus file (a directory for brat)"),
    output_path: Path = typer.Argument(..., metavar="OUTPUT", help="Output .spacy file"),
    strict: bool = typer.Option(False, "--strict", help="Treat every warning as an error"),
    label_map: Optional[List[str]] = typer.Option(
        None, "--label-map", "-m",
        help="Extra TYPE=LABEL mapping (repeatable); TYPE=- skips a type on purpose"),
    annotated_labels: Optional[List[str]] = typer.Option(
        None, "--annotated-label", "-a",
        help="Label the corpus annotates completely (repeatable; default: those in the file)"),
    corpus: Optional[str] = typer.Option(None, "--corpus", "-c",
                                         help="Corpus name stored on each Doc"),
    sentences_per_doc: int = typer.Option(
        10, "--sentences-per-doc", help="conll only: sentences joined into one Doc"),
    limit: int = typer.Option(0, "--limit", help="Convert only the first N documents"),
    report_path: Optional[Path] = typer.Option(None, "--report",
                                               help="Also write the summary as JSON"),
) -> None:
    """Convert a corpus file into a spaCy DocBin (.spacy) with entities and relations."""
    from spacy.tokens import DocBin
    from tqdm import tqdm

    from .corpora import get_parser
    from .corpora.base import docs_from_raw, parse_raws

    logging.getLogger("spacy_biobert").setLevel(logging.ERROR)
    report = ConversionReport(strict=strict)
    options: Dict[str, object] = {}
    if fmt.lower() == "conll":
        options["sentences_per_doc"] = sentences_per_doc
    try:
        parse = get_parser(fmt)
        raws, labels = parse_raws(parse, input_path, report,
                                  label_map=_parse_label_map(label_map),
                                  annotated_labels=annotated_labels, limit=limit, **options)
        if not raws:
            raise CorpusError("no documents found", path=input_path)
        nlp = blank_biomedical()
        docbin = DocBin(store_user_data=True)
        name = corpus or input_path.stem
        docs = docs_from_raw(nlp, raws, report, corpus=name, annotated_labels=labels)
        for doc in tqdm(docs, total=len(raws), desc=f"converting {input_path.name}",
                        unit="doc", file=sys.stderr, disable=None):
            docbin.add(doc)
    except CorpusError as err:
        msg.fail("Conversion failed", str(err), exits=1)
        return
    output_path.parent.mkdir(parents=True, exist_ok=True)
    docbin.to_disk(output_path)
    print_report(report, f"{input_path} -> {output_path}")
    msg.good(f"Saved {report.docs} documents to {output_path} "
             f"(annotated labels: {', '.join(labels) or 'none'})")
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(json.dumps({"input": str(input_path), **report.to_dict()},
                                          indent=2))


@project_app.command("assets")
def assets_cmd(
    project: Path = typer.Argument(Path("project.yml"), help="The project.yml naming the assets"),
    mirror: Optional[Path] = typer.Option(
        None, "--mirror", help="Local folder holding the same files (used instead of URLs)"),
    root: Path = typer.Option(Path("."), "--root", help="Folder the asset 'dest' paths are in"),
    extra: bool = typer.Option(False, "--extra",
                               help="Also fetch the assets marked 'extra: true'"),
) -> None:
    """Fetch the corpora named in project.yml: from a local mirror, else their URLs.

    Every file is checked against its sha256 checksum.
    """
    from .assets import AssetError, fetch_assets

    try:
        fetched = fetch_assets(project, mirror=mirror, root=root, extra=extra)
    except AssetError as err:
        msg.fail("Assets failed", str(err), exits=1)
        return
    msg.table([(a.dest, a.source, a.sha256[:12]) for a in fetched],
              header=("asset", "from", "sha256"))
    msg.good(f"{len(fetched)} asset(s) ready, checksums verified")


@app.command("evaluate")
def evaluate_cmd(
    model: str = typer.Argument(..., help="Pipeline name or path"),
    data: List[Path] = typer.Argument(..., help=".spacy files (one per corpus)"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Metrics JSON"),
    markdown: Optional[Path] = typer.Option(None, "--markdown", help="Metrics Markdown table"),
    batch_size: int = typer.Option(16, "--batch-size"),
    gpu_id: int = typer.Option(-1, "--gpu-id"),
    limit: int = typer.Option(0, "--limit", min=0,
                              help="Score the first N documents of each file (0 = all)"),
) -> None:
    """Score NER per corpus and label (strict span match) on the labels each corpus annotates."""
    from .evaluation import evaluate_corpora, metrics_markdown, save_metrics

    if gpu_id >= 0:
        import spacy

        spacy.require_gpu(gpu_id)
    try:
        metrics = evaluate_corpora(model, data, batch_size=batch_size, limit=limit)
    except (CorpusError, OSError, ValueError) as err:
        msg.fail("Evaluation failed", str(err), exits=1)
        return
    table = metrics_markdown(metrics)
    print(table)
    save_metrics(metrics, table, output, markdown)
    if output is not None:
        msg.good(f"Saved metrics to {output}")


@project_app.command("where")
def where_cmd(
    model: Path = typer.Argument(..., help="The trained pipeline folder"),
    packages: Optional[Path] = typer.Argument(None, help="Folder that spacy package wrote to"),
) -> None:
    """Print where the trained pipeline and the built package wheels are."""
    if not model.exists():
        msg.fail(f"No trained pipeline at {model}", exits=1)
    msg.good(f"Trained pipeline: {model.resolve()}")
    wheels = sorted(packages.glob("*/dist/*.whl")) if packages is not None else []
    for wheel in wheels:
        msg.good(f"Package wheel: {wheel.resolve()}")
        msg.text(f"  install it with: pip install {wheel}")


@app.command("version")
def version_cmd() -> None:
    """Print the package version."""
    print(__version__)


from .pretraining.cli import pretrain_cmd, pretrain_text_cmd, transformer_cmd  # noqa: E402

app.command("pretrain")(pretrain_cmd)
app.command("pretrain-text")(pretrain_text_cmd)
project_app.command("transformer")(transformer_cmd)

from .packaging import (  # noqa: E402
    check_installed_cmd,
    compare_metrics_cmd,
    install_package_cmd,
    package_meta_cmd,
)
from .visualize import visualize_cmd  # noqa: E402

app.command("visualize")(visualize_cmd)
project_app.command("package-meta")(package_meta_cmd)
project_app.command("install-package")(install_package_cmd)
project_app.command("check-installed")(check_installed_cmd)
project_app.command("compare-metrics")(compare_metrics_cmd)

from .annotate import annotate_cmd  # noqa: E402

app.command("annotate")(annotate_cmd)

from .relations.cli import cv_cmd, evaluate_relations_cmd  # noqa: E402

app.command("evaluate-relations")(evaluate_relations_cmd)
app.command("cv")(cv_cmd)

from .linking.cli import build_kb_cmd, evaluate_linking_cmd  # noqa: E402

app.command("build-kb")(build_kb_cmd)
app.command("evaluate-linking")(evaluate_linking_cmd)

from .abbreviations.cli import evaluate_abbreviations_cmd  # noqa: E402

app.command("evaluate-abbreviations")(evaluate_abbreviations_cmd)

from .inference.packaging import optimize_cmd  # noqa: E402

app.command("optimize")(optimize_cmd)


def main() -> None:
    """Console-script entry point."""
    app()
