"""Annotate corpora at scale: ``python -m spacy_biobert annotate MODEL --input --output``.

The runner streams records from a source (:mod:`spacy_biobert.io`), drops those it
must skip (counted, with the reason), runs the pipeline in batches and writes each
batch to the sink in one transaction. Memory stays flat: nothing but the ids seen
so far is kept across batches.

**Resuming.** The sink tells which ids it already holds (SQL: the ``documents``
table; files: the complete documents in the file, after cutting an incomplete tail).
Those are skipped, so a run that was killed (``kill -9`` included) and started again
with the same command finishes the job with no duplicate and no missing document.

**Engines.** ``local`` runs ``nlp.pipe`` in this process, or with ``n_process > 1``
in worker processes started with the *spawn* method (a forked child cannot use
PyTorch's thread pool once the parent ran the model). ``ray`` runs the same pipeline
as a Ray Data ``map_batches`` over an actor pool, one loaded pipeline per actor
(one GPU each with ``--gpu-id``), locally or on a cluster (``--ray-address``).
"""
import json
import logging
import multiprocessing
import os
import sys
import tempfile
import time
from collections import Counter, deque
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Deque, Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

import typer
from spacy.language import Language
from wasabi import msg

from .counts import RunCounts, sorted_counts
from .extras import MissingExtraError, require
from .io import AnnotateError, DocResult, ModelInfo, Record, doc_to_result, open_sink, open_source
from .io.urls import is_sql_url, safe_url

logger = logging.getLogger("spacy_biobert.annotate")

ModelLike = Union[str, Path, Language]
#: Most records per block that the Ray engine puts into the object store (a block is
#: two batches, so that small inputs still spread over every actor).
RAY_BLOCK = 1000


@dataclass
class Summary(RunCounts):
    """What a run did: annotated, skipped (and why), found already done."""

    docs: int = 0
    words: int = 0
    already_done: int = 0
    skipped: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def skip(self, reason: str, record: Record) -> None:
        self.skipped[reason] += 1
        self.note(f"[{reason}] {record.where or record.id}")
        logger.info("skipped %s: %s", record.where or record.id, reason)

    def add(self, results: List[DocResult]) -> None:
        for res in results:
            self.docs += 1
            self.words += res["n_words"]
            self.entities.update(ent["label"] for ent in res["entities"])
            self.relations.update(f"{rel['label']} ({rel['kind']})" for rel in res["relations"])

    def to_dict(self) -> Dict[str, Any]:
        return {
            "docs": self.docs, "words": self.words, "already_done": self.already_done,
            "entities": sorted_counts(self.entities),
            "relations": sorted_counts(self.relations),
            "skipped": sorted_counts(self.skipped),
            "seconds": round(self.seconds, 3),
            "docs_per_second": round(self.docs / self.seconds, 2) if self.seconds else None,
            "words_per_second": round(self.words / self.seconds, 1) if self.seconds else None,
        }


def model_info(model: ModelLike) -> ModelInfo:
    """Name (``lang_name``) and version of a pipeline, from its meta."""
    import spacy
    import srsly

    if isinstance(model, Language):
        meta = model.meta
    else:
        path = Path(model)
        if path.exists():
            meta_path = path / "meta.json"
            if not meta_path.exists():
                raise AnnotateError(f"{path}: not a spaCy pipeline folder (no meta.json)")
            meta = srsly.read_json(meta_path)
        elif spacy.util.is_package(str(model)):
            meta = srsly.read_json(spacy.util.get_package_path(str(model)) / "meta.json")
        else:
            raise AnnotateError(f"no pipeline {model!r}: not a folder nor an installed package")
    name = f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}"
    return ModelInfo(name, str(meta.get("version", "0.0.0")))


def load_pipeline(model: ModelLike, gpu_id: int = -1) -> Language:
    """Load a pipeline by path or package name, on ``gpu_id`` when >= 0."""
    import spacy

    if gpu_id >= 0:
        spacy.require_gpu(gpu_id)
    if isinstance(model, Language):
        return model
    try:
        return spacy.load(model)
    except OSError as err:
        raise AnnotateError(f"cannot load the pipeline {model!r}: {err}") from None


def optimize_pipeline(nlp: Language, precision: Optional[str]) -> Language:
    """``nlp`` with its transformer at ``precision`` (None: as it was saved)."""
    if precision is None:
        return nlp
    from .inference import InferenceError, optimize

    try:
        return optimize(nlp, precision)
    except InferenceError as err:
        raise AnnotateError(f"--precision {precision}: {err}") from None


@contextmanager
def optimized_folder(model: ModelLike, precision: Optional[str]) -> Iterator[ModelLike]:
    """``model``, or a temporary copy of it saved at ``precision``: worker processes
    load that copy instead of each exporting and quantizing the transformer again."""
    if precision is None or isinstance(model, Language):
        yield model
        return
    nlp = optimize_pipeline(load_pipeline(model), precision)
    with tempfile.TemporaryDirectory(prefix="spacy-biobert-") as tmp:
        nlp.to_disk(Path(tmp) / "pipeline")
        del nlp
        yield Path(tmp) / "pipeline"


def pending_records(source: Iterable[Record], done: Set[str], sink: Any, summary: Summary,
                    max_length: int) -> Iterator[Record]:
    """The records still to annotate; all others are counted in ``summary``."""
    seen: Set[str] = set()
    for record in source:
        if record.problem:
            summary.skip(record.problem, record)
        elif record.id in seen:
            summary.skip("duplicate id", record)
        elif record.id in done:
            seen.add(record.id)
            summary.already_done += 1
        elif record.text is None or not record.text.strip():
            summary.skip("empty or null text", record)
        elif len(record.text) > max_length:
            summary.skip(f"longer than --max-length {max_length:,} characters", record)
        else:
            why = sink.reject(record)
            if why:
                summary.skip(why, record)
                continue
            seen.add(record.id)
            yield record


def _chunks(records: Iterable[Record], size: int) -> Iterator[List[Record]]:
    chunk: List[Record] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- engines: each turns pending records into batches of results -------------------


def _run_in_process(nlp: Language, records: Iterable[Record],
                    batch_size: int) -> Iterator[List[DocResult]]:
    pairs = ((record.text or "", record.id) for record in records)
    batch: List[DocResult] = []
    for doc, doc_id in nlp.pipe(pairs, as_tuples=True, batch_size=batch_size):
        batch.append(doc_to_result(doc, doc_id))
        if len(batch) >= batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


_WORKER_NLP: Optional[Language] = None


def _init_worker(model: str, gpu_id: int, threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    global _WORKER_NLP
    _WORKER_NLP = load_pipeline(model, gpu_id)


def _worker_batch(items: List[Tuple[str, str]], batch_size: int) -> List[DocResult]:
    assert _WORKER_NLP is not None
    return [doc_to_result(doc, doc_id)
            for doc, doc_id in _WORKER_NLP.pipe(items, as_tuples=True, batch_size=batch_size)]


def _run_processes(model: str, records: Iterable[Record], batch_size: int, n_process: int,
                   gpu_id: int, threads: Optional[int] = None) -> Iterator[List[DocResult]]:
    # Spawned, not forked (see module docstring); at most two batches per worker in
    # flight, so a large source is never read ahead into memory. A worker that dies
    # (out of memory, killed) breaks the pool with an error instead of a hang.
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    threads = threads or max(1, (os.cpu_count() or 1) // n_process)
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(n_process, mp_context=ctx, initializer=_init_worker,
                                 initargs=(model, gpu_id, threads)) as pool:
            inflight: Deque[Future] = deque()
            for chunk in _chunks(records, batch_size):
                items = [(r.text or "", r.id) for r in chunk]
                inflight.append(pool.submit(_worker_batch, items, batch_size))
                while len(inflight) >= 2 * n_process:
                    yield inflight.popleft().result()
            while inflight:
                yield inflight.popleft().result()
    except BrokenProcessPool as err:
        raise AnnotateError(f"a worker process died ({err}); the batches written so far "
                            "are kept: rerun the same command to resume") from None


class _RayAnnotator:
    """One loaded pipeline per Ray actor."""

    def __init__(self, model: str, gpu_id: int, batch_size: int,
                 precision: Optional[str] = None) -> None:
        import spacy_biobert  # noqa: F401  (extensions, registered functions)

        # An actor with a GPU sees it as device 0.
        self.nlp = optimize_pipeline(load_pipeline(model, 0 if gpu_id >= 0 else -1), precision)
        self.batch_size = batch_size

    def __call__(self, batch: Dict[str, Any]) -> Dict[str, List[str]]:
        pairs = list(zip((str(t) for t in batch["text"]), (str(i) for i in batch["id"])))
        results = [doc_to_result(doc, doc_id) for doc, doc_id in
                   self.nlp.pipe(pairs, as_tuples=True, batch_size=self.batch_size)]
        return {"id": [r["id"] for r in results],
                "result": [json.dumps(r, ensure_ascii=False) for r in results]}


def _run_ray(model: str, records: Iterable[Record], batch_size: int, n_process: int,
             gpu_id: int, ray_address: Optional[str],
             precision: Optional[str] = None) -> Iterator[List[DocResult]]:
    try:
        ray = require("ray", "ray", "annotate --engine ray")
        require("ray.data", "ray", "annotate --engine ray")
        pa = require("pyarrow", "ray", "annotate --engine ray")
    except MissingExtraError as err:
        raise AnnotateError(str(err)) from None

    started = not ray.is_initialized()
    if started:
        if ray_address:
            ray.init(address=ray_address, log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, n_process), include_dashboard=False,
                     log_to_driver=False, configure_logging=False)
    # Our own bar and summary report progress; Ray Data's would interleave with them.
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    try:
        # The driver reads the source (resume and skip rules apply there) and puts
        # blocks into the object store; actors annotate them where they run.
        # Only the object references stay in the driver's memory; Ray spills blocks to
        # disk when its object store fills up.
        refs: List[Any] = []
        for chunk in _chunks(records, min(RAY_BLOCK, 2 * batch_size)):
            block = pa.table({"id": [r.id for r in chunk],
                              "text": [r.text or "" for r in chunk]})
            refs.append(ray.put(block))
        if not refs:
            return
        dataset = ray.data.from_arrow_refs(refs).map_batches(
            _RayAnnotator,
            fn_constructor_kwargs={"model": model, "gpu_id": gpu_id, "batch_size": batch_size,
                                   "precision": precision},
            batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=max(1, n_process)),
            num_gpus=1 if gpu_id >= 0 else 0, num_cpus=1,
        )
        for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            table: Any = batch
            yield [json.loads(value) for value in table.column("result").to_pylist()]
    finally:
        if started:
            ray.shutdown()


# --- the runner ----------------------------------------------------------------------


def annotate(model: ModelLike, source: Iterable[Record], sink: Any, *, batch_size: int = 32,
             n_process: int = 1, gpu_id: int = -1, max_length: int = 1_000_000,
             engine: str = "local", ray_address: Optional[str] = None,
             progress: bool = False, total: Optional[int] = None,
             threads: Optional[int] = None, precision: Optional[str] = None) -> Summary:
    """Annotate every pending record of ``source`` into ``sink``.

    model (ModelLike): Pipeline path, package name, or a loaded ``Language``
        (in-process engine only).
    source (Iterable[Record]): From :func:`spacy_biobert.io.open_source`.
    sink: From :func:`spacy_biobert.io.open_sink` (not opened yet).
    batch_size (int): Documents per ``nlp.pipe`` batch and per sink transaction.
    n_process (int): Worker processes (local) or actors (ray).
    gpu_id (int): GPU to run on; -1 for CPU.
    max_length (int): Longer texts are skipped (counted), not annotated.
    engine (str): "local" or "ray".
    ray_address (Optional[str]): Ray cluster to join ("auto", "ray://host:10001").
    progress (bool): Show a tqdm bar (docs/s, words/s) on stderr.
    total (Optional[int]): Records in the source, for the bar.
    threads (Optional[int]): PyTorch threads per process. None: torch's default in
        this process (all cores), cores / n_process in each worker. ONNX Runtime
        uses as many.
    precision (Optional[str]): Run the transformer at fp32, int8, onnx or onnx-int8
        (:func:`spacy_biobert.optimize`); None: as the pipeline was saved.
    RETURNS (Summary): What was annotated, skipped and already done.
    """
    if batch_size < 1 or n_process < 1:
        raise AnnotateError("--batch-size and --n-process must be at least 1")
    if threads is not None and threads < 1:
        raise AnnotateError("--threads must be at least 1")
    if engine not in ("local", "ray"):
        raise AnnotateError(f"unknown --engine {engine!r}; choose local or ray")
    if isinstance(model, Language) and (n_process > 1 or engine == "ray"):
        raise AnnotateError("a loaded pipeline runs in this process only; pass its path "
                            "for --n-process > 1 or --engine ray")
    _check_precision(precision, gpu_id)
    info = model_info(model)
    summary = Summary()
    nlp: Optional[Language] = None
    if engine == "local" and n_process == 1:
        # before opening the sink: fail early
        nlp = optimize_pipeline(load_pipeline(model, gpu_id), precision)
        # Longer texts would make spaCy raise deep inside nlp.pipe (E088).
        max_length = min(max_length, nlp.max_length)
    done = sink.open(info)
    restore_threads = _set_torch_threads(threads) if nlp is not None else None
    started = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="doc", desc="annotating", file=sys.stderr,
                   dynamic_ncols=True)
    stack = ExitStack()
    try:
        records = pending_records(source, done, sink, summary, max_length)
        if nlp is not None:
            batches = _run_in_process(nlp, records, batch_size)
        elif engine == "ray":
            batches = _run_ray(str(model), records, batch_size, n_process, gpu_id, ray_address,
                               precision)
        else:
            workers_model = stack.enter_context(optimized_folder(model, precision))
            batches = _run_processes(str(workers_model), records, batch_size, n_process,
                                     gpu_id, threads)
        handled = 0
        for batch in batches:
            sink.write(batch)
            summary.add(batch)
            handled = _advance(bar, summary, handled, started)
        _advance(bar, summary, handled, started)
    finally:
        summary.seconds = time.perf_counter() - started
        if restore_threads is not None:
            _set_torch_threads(restore_threads)
        if bar is not None:
            bar.close()
        sink.close()
        stack.close()
    return summary


def _check_precision(precision: Optional[str], gpu_id: int) -> None:
    if precision is None:
        return
    from .inference import PRECISIONS

    if precision not in PRECISIONS:
        raise AnnotateError(f"--precision {precision!r} is not supported; choose one of "
                            f"{', '.join(PRECISIONS)}")
    if precision != "fp32" and gpu_id >= 0:
        raise AnnotateError(f"--precision {precision} runs on CPU; drop --gpu-id or use "
                            "--precision fp32")


def _set_torch_threads(threads: Optional[int]) -> Optional[int]:
    """Set torch's intra-op threads; returns the previous number (None: unchanged)."""
    if threads is None:
        return None
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    return previous


def _advance(bar: Any, summary: Summary, handled: int, started: float) -> int:
    """Move the progress bar to the records handled so far; RETURNS that count."""
    now = summary.docs + sum(summary.skipped.values()) + summary.already_done
    if bar is not None:
        bar.update(now - handled)
        elapsed = max(time.perf_counter() - started, 1e-9)
        bar.set_postfix_str(f"{summary.docs / elapsed:.1f} docs/s, "
                            f"{summary.words / elapsed:,.0f} words/s")
    return now


def print_summary(summary: Summary, title: str) -> None:
    """The final summary as tables."""
    msg.divider(title)
    msg.table([("annotated documents", f"{summary.docs:,}"),
               ("words", f"{summary.words:,}"),
               ("already done (resumed)", f"{summary.already_done:,}"),
               ("skipped", f"{sum(summary.skipped.values()):,}"),
               ("seconds", f"{summary.seconds:.1f}"),
               ("docs/s", f"{summary.docs / summary.seconds:.1f}" if summary.seconds else "-"),
               ("words/s", f"{summary.words / summary.seconds:,.0f}" if summary.seconds
                else "-")], aligns=("l", "r"))
    if summary.entities:
        msg.table(sorted(summary.entities.items()), header=("entity label", "count"),
                  aligns=("l", "r"))
    if summary.relations:
        msg.table(sorted(summary.relations.items()), header=("relation", "count"),
                  aligns=("l", "r"))
    if summary.skipped:
        msg.warn(f"{sum(summary.skipped.values())} record(s) skipped")
        msg.table(sorted(summary.skipped.items()), header=("skipped because", "count"),
                  aligns=("l", "r"))
        for line in summary.examples[:10]:
            msg.text(f"  {line}")


def annotate_cmd(
    model: str = typer.Argument(..., help="Pipeline: a folder or an installed package"),
    input_spec: str = typer.Option(..., "--input", "-i",
                                   help="Folder of .txt, .jsonl, PubTator, BioC, or a "
                                        "database URL (sqlite:///x.db, postgresql://...)"),
    output_spec: str = typer.Option(..., "--output", "-o",
                                    help=".jsonl, PubTator, BioC (.xml/.json) or a database "
                                         "URL (tables documents, entities, relations)"),
    input_format: Optional[str] = typer.Option(None, "--input-format",
                                               help="txt, jsonl, pubtator, bioc or sql"),
    output_format: Optional[str] = typer.Option(None, "--output-format",
                                                help="jsonl, pubtator, bioc or sql"),
    table: Optional[str] = typer.Option(None, "--table", help="SQL input: table or view"),
    id_column: str = typer.Option("id", "--id-column", help="SQL column / JSONL field of ids"),
    text_column: str = typer.Option("text", "--text-column",
                                    help="SQL column / JSONL field of texts"),
    table_prefix: str = typer.Option("", "--table-prefix",
                                     help="SQL output: prefix of the three table names"),
    batch_size: int = typer.Option(32, "--batch-size", help="Documents per batch/transaction"),
    n_process: int = typer.Option(1, "--n-process", help="Worker processes (ray: actors)"),
    threads: Optional[int] = typer.Option(None, "--threads",
                                          help="PyTorch threads per process (default: all "
                                               "cores in one process, cores / n-process "
                                               "in workers)"),
    gpu_id: int = typer.Option(-1, "--gpu-id", help="GPU id; -1 for CPU"),
    precision: Optional[str] = typer.Option(None, "--precision",
                                            help="Transformer at fp32, int8, onnx or "
                                                 "onnx-int8 (CPU; default: as saved)"),
    max_length: int = typer.Option(1_000_000, "--max-length",
                                   help="Skip (and count) texts longer than this"),
    engine: str = typer.Option("local", "--engine", help="local or ray"),
    ray_address: Optional[str] = typer.Option(None, "--ray-address",
                                              help="Ray cluster to join, e.g. auto or "
                                                   "ray://head:10001"),
    summary_path: Optional[Path] = typer.Option(None, "--summary",
                                                help="Also write the summary as JSON"),
) -> None:
    """Annotate documents from files or a database; resumable (rerun to continue)."""
    logging.getLogger("spacy_biobert").setLevel(logging.WARNING)
    try:
        if not is_sql_url(output_spec) and not is_sql_url(input_spec) and \
                Path(input_spec).resolve() == Path(output_spec).resolve():
            raise AnnotateError("--output must not be the --input file")
        source = open_source(input_spec, input_format, table=table, id_column=id_column,
                             text_column=text_column)
        sink = open_sink(output_spec, output_format, table_prefix=table_prefix)
        summary = annotate(model, source, sink, batch_size=batch_size, n_process=n_process,
                           gpu_id=gpu_id, max_length=max_length, engine=engine,
                           ray_address=ray_address, progress=True, total=len(source),
                           threads=threads, precision=precision)
    except (AnnotateError, MissingExtraError) as err:
        msg.fail("Annotation failed", str(err), exits=1)
        return
    where_in = safe_url(input_spec) if is_sql_url(input_spec) else input_spec
    where_out = safe_url(output_spec) if is_sql_url(output_spec) else output_spec
    print_summary(summary, f"{where_in} -> {where_out}")
    msg.good(f"Annotated {summary.docs:,} documents into {where_out}")
    if summary_path is not None:
        summary_path.parent.mkdir(parents=True, exist_ok=True)
        summary_path.write_text(json.dumps(summary.to_dict(), indent=2))
