"""Continued masked-language-model pretraining with checkpoints and resume.

The recipe of BioBERT (Lee et al. 2020, "BioBERT: a pre-trained biomedical language
representation model"): take a general-domain BERT and keep training its MLM objective on
biomedical text. Here: AdamW with linear warmup and linear decay, gradient accumulation,
gradient clipping, whole-word dynamic masking over packed sequences (``data``), and a
held-out MLM perplexity measured with the same fixed masks before and after.

A checkpoint (``DIR/checkpoint/``) holds the weights, the optimizer state, the torch RNG
state (dropout) and the data position (epoch, offset into that epoch's order); the data
order and masks are functions of (seed, epoch, index), so a resumed run continues exactly
where the killed one last saved. Checkpoints are written to a temporary folder and then
renamed, so a kill while saving leaves the previous one intact.
"""
import contextlib
import hashlib
import json
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .data import (
    IGNORE_INDEX,
    MAX_LINE_CHARS,
    PretrainDataError,
    TextStats,
    WholeWordMasker,
    pack_texts,
    read_texts,
)
from .model import head_parameters, load_mlm_model, save_model

logger = logging.getLogger("spacy_biobert.pretraining")

CHECKPOINT = "checkpoint"
STATE_FILE = "trainer_state.json"
INFO_FILE = "pretraining.json"
LOG_FILE = "train_log.jsonl"
#: Seed of the fixed held-out masks (the same before and after training).
EVAL_SEED = 20_200_915
#: Numeric precisions of the training forward pass (``--precision``).
PRECISIONS = ("fp32", "bf16")
#: Settings a resumed run must share with the run it continues.
RESUME_KEYS = ("seq_len", "batch_size", "accumulate", "learning_rate", "warmup_fraction",
               "weight_decay", "mask_prob", "seed", "heldout_every", "max_line_chars",
               "repeats")


class PretrainError(ValueError):
    """A run that cannot start or resume (settings, output folder, changed inputs)."""


@dataclass
class PretrainSettings:
    """Hyper-parameters and budget of a pretraining run (``pretrain --help`` explains each)."""

    # Budget and batches.
    max_steps: int = 1000
    seq_len: int = 128
    batch_size: int = 32
    accumulate: int = 1
    # AdamW with linear warmup and decay.
    learning_rate: float = 1e-4
    warmup_fraction: float = 0.06
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    # Whole-word masking; the seed also fixes the data order.
    mask_prob: float = 0.15
    seed: int = 0
    # Checkpoints, the log and the held-out perplexity.
    save_every: int = 100
    log_every: int = 10
    heldout_every: int = 100
    heldout_max_seqs: int = 256
    # A newly attached MLM head, trained alone first.
    head_fit_steps: int = 100
    head_fit_lr: float = 1e-3
    # How and where it runs.
    eval_batch_size: int = 32
    max_line_chars: int = MAX_LINE_CHARS
    threads: int = 0
    device: str = "cpu"
    #: "fp32", or "bf16": bfloat16 autocast of the forward pass (GPUs with bf16; master
    #: weights, optimizer and loss stay fp32, so no loss scaling is needed).
    precision: str = "fp32"
    allow_eval_text: bool = False
    time_limit_minutes: float = 0.0
    #: Input path -> copies of its training texts (``--repeat PATH=N``).
    repeats: Dict[str, int] = field(default_factory=dict)

    def check(self) -> None:
        for name in ("max_steps", "seq_len", "batch_size", "accumulate", "save_every"):
            if getattr(self, name) < 1:
                raise PretrainError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.warmup_fraction < 1:
            raise PretrainError(f"warmup must be in [0, 1), got {self.warmup_fraction}")
        if not 0 < self.mask_prob < 1:
            raise PretrainError(f"mask probability must be in (0, 1), got {self.mask_prob}")
        if self.precision not in PRECISIONS:
            raise PretrainError(f"precision must be one of {', '.join(PRECISIONS)}, "
                                f"got {self.precision!r}")


@dataclass
class TrainerState:
    """Where a run is: written into every checkpoint."""

    base: str
    inputs: List[str]
    settings: Dict[str, Any]
    data_fingerprint: str
    step: int = 0
    epoch: int = 0
    position: int = 0
    tokens_seen: int = 0
    train_seconds: float = 0.0
    perplexity: Dict[str, Optional[float]] = field(default_factory=dict)
    new_head: List[str] = field(default_factory=list)
    #: ``max_steps`` of the finished runs this one extends (``--resume`` with more steps).
    extended_from: List[int] = field(default_factory=list)


def lr_factor(step: int, max_steps: int, warmup_fraction: float) -> float:
    """Linear warmup to 1, then linear decay to 0 at ``max_steps`` (``step`` counts from 0)."""
    warmup = int(round(warmup_fraction * max_steps))
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (max_steps - step) / max(1, max_steps - warmup))


def find_checkpoint(output: Path) -> Optional[Path]:
    """The latest complete checkpoint folder in ``output``, if any."""
    for name in (CHECKPOINT, CHECKPOINT + ".old"):
        if (output / name / STATE_FILE).exists():
            return output / name
    return None


def prepare_output(output: Path, base: str, *, resume: bool, overwrite: bool) -> Optional[Path]:
    """Check the output folder; RETURNS the checkpoint to resume from, if any."""
    if output.exists() and not output.is_dir():
        raise PretrainError(f"--output {output} is a file, not a folder")
    if Path(base).exists() and Path(base).resolve() == output.resolve():
        raise PretrainError(f"--output {output} is the base model's folder; choose a new one")
    checkpoint = find_checkpoint(output) if output.exists() else None
    ours = checkpoint is not None or (output / INFO_FILE).exists()
    if resume:
        if checkpoint is not None:
            return checkpoint
        if ours:
            raise PretrainError(f"{output} holds a finished run without a checkpoint; "
                                "nothing to resume (use --overwrite to start again)")
        if output.exists() and any(output.iterdir()):
            raise PretrainError(f"{output} exists and was not written by pretrain; "
                                "choose a new --output")
        logger.info("No checkpoint in %s: starting a new run", output)
        return None
    if output.exists() and any(output.iterdir()):
        if overwrite and ours:
            shutil.rmtree(output)
            return None
        if overwrite:
            raise PretrainError(f"{output} exists and was not written by pretrain; "
                                "refusing to delete it (choose a new --output)")
        if checkpoint is not None:
            state = json.loads((checkpoint / STATE_FILE).read_text())
            raise PretrainError(
                f"{output} holds a pretraining run (checkpoint at step {state['step']} of "
                f"{state['settings']['max_steps']}): pass --resume to continue it or "
                "--overwrite to start again")
        raise PretrainError(f"--output {output} exists and is not empty: choose a new "
                            "folder (or --overwrite to replace an earlier pretrain output)")
    return None


def fingerprint(seqs: np.ndarray) -> str:
    """Identity of the packed training data (a resumed run must see the same)."""
    digest = hashlib.sha1(np.ascontiguousarray(seqs).tobytes()).hexdigest()[:16]
    return f"{seqs.shape[0]}x{seqs.shape[1]}:{digest}"


def mlm_loss_sum(model: Any, inputs: Any, labels: Any, attention: Any) -> Tuple[Any, int]:
    """Summed cross-entropy over masked positions, and their number.

    For BERT models the vocabulary projection runs on masked positions only (15 % of
    them): on CPU that projection would otherwise cost as much as the encoder.
    """
    import torch.nn.functional as F

    selected = labels != IGNORE_INDEX
    count = int(selected.sum())
    if hasattr(model, "bert") and hasattr(model, "cls"):
        hidden = model.bert(input_ids=inputs, attention_mask=attention).last_hidden_state
        logits = model.cls(hidden[selected])
        return F.cross_entropy(logits.float(), labels[selected], reduction="sum"), count
    logits = model(input_ids=inputs, attention_mask=attention).logits
    return F.cross_entropy(logits[selected].float(), labels[selected], reduction="sum"), count


def perplexity(model: Any, seqs: np.ndarray, masker: WholeWordMasker, *, pad_id: int,
               batch_size: int, device: str) -> Optional[float]:
    """MLM perplexity (exp of mean masked-token loss) on ``seqs`` with fixed masks."""
    import torch

    if len(seqs) == 0:
        return None
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(seqs), batch_size):
            index = list(range(start, min(start + batch_size, len(seqs))))
            batch = seqs[index]
            inputs, labels = masker.mask_batch(batch, index, epoch=0, seed=EVAL_SEED)
            loss, n = mlm_loss_sum(model, torch.from_numpy(inputs).to(device),
                                   torch.from_numpy(labels).to(device),
                                   torch.from_numpy(batch != pad_id).long().to(device))
            total += float(loss)
            count += n
    model.train(was_training)
    return math.exp(total / max(1, count))


def init_head_bias(model: Any, seqs: np.ndarray, pad_id: int) -> None:
    """Set a new head's output bias to the log unigram frequencies of the training text,
    so the head starts at the unigram model instead of a uniform guess."""
    import torch

    bias = getattr(model.get_output_embeddings(), "bias", None)
    if bias is None:
        return
    ids = seqs[seqs != pad_id]
    counts = np.bincount(ids, minlength=bias.shape[0])[: bias.shape[0]].astype(np.float64)
    logp = np.log(counts + 1.0) - np.log(counts.sum() + len(counts))
    with torch.no_grad():
        bias.copy_(torch.from_numpy(logp).to(bias.dtype))


def batches(order_for: Any, n: int, batch_size: int, epoch: int,
            position: int) -> Iterator[Tuple[int, int, List[int]]]:
    """Endless (epoch, next position, indices) batches from the position of a run."""
    while True:
        order = order_for(epoch)
        while position < n:
            index = [int(i) for i in order[position:position + batch_size]]
            position += len(index)
            yield epoch, position, index
        epoch, position = epoch + 1, 0


def save_checkpoint(output: Path, model: Any, optimizer: Any, state: TrainerState) -> None:
    """Write a checkpoint atomically (temporary folder, then rename)."""
    import torch

    tmp = output / (CHECKPOINT + ".tmp")
    final, old = output / CHECKPOINT, output / (CHECKPOINT + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    torch.save(model.state_dict(), tmp / "model.pt")
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save({"torch": torch.get_rng_state()}, tmp / "rng.pt")
    (tmp / STATE_FILE).write_text(json.dumps(asdict(state), indent=2))
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _optimizer(model: Any, settings: PretrainSettings) -> Any:
    import torch

    decay: List[Any] = []
    no_decay: List[Any] = []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        # Biases and LayerNorm weights are not decayed (BERT's convention).
        (no_decay if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
    groups = [{"params": decay, "weight_decay": settings.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=settings.learning_rate)


def fit_new_head(model: Any, train: np.ndarray, masker: WholeWordMasker, new_head: List[str],
                 settings: PretrainSettings, pad_id: int, progress: bool) -> None:
    """Train only a newly attached head, encoder frozen, so that (1) the "before"
    perplexity measures the general-domain encoder, not a random head, and (2) the
    encoder's first updates do not follow gradients of a random head."""
    import torch
    from tqdm import tqdm

    embeddings = model.get_input_embeddings().weight
    params = [p for p in head_parameters(model, new_head) if p is not embeddings]
    if not params or settings.head_fit_steps <= 0:
        return
    flags = {name: p.requires_grad for name, p in model.named_parameters()}
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.AdamW(params, lr=settings.head_fit_lr, weight_decay=0.0)
    rng = np.random.default_rng([settings.seed, 7])
    model.eval()
    bar = tqdm(range(settings.head_fit_steps), desc="fitting new MLM head", unit="step",
               disable=None if progress else True, leave=False)
    for _ in bar:
        index = [int(i) for i in rng.choice(len(train), size=min(len(train),
                                                                 settings.batch_size),
                                            replace=False)]
        inputs, labels = masker.mask_batch(train[index], index, epoch=0, stream=1)
        loss, count = mlm_loss_sum(model, torch.from_numpy(inputs).to(settings.device),
                                   torch.from_numpy(labels).to(settings.device),
                                   torch.from_numpy(train[index] != pad_id).long()
                                   .to(settings.device))
        optimizer.zero_grad()
        (loss / max(1, count)).backward()
        optimizer.step()
        bar.set_postfix(loss=f"{loss.item() / max(1, count):.3f}")
    for name, p in model.named_parameters():
        p.requires_grad_(flags[name])


def pretrain(
    inputs: Sequence[Path],
    output: Path,
    *,
    base: str,
    settings: PretrainSettings,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> Dict[str, Any]:
    """Continue MLM pretraining of ``base`` on ``inputs`` and save the model in ``output``.

    The stages: check the output folder and any checkpoint (:func:`load_saved_state`),
    read and pack the text (:func:`prepare_data`), start or restore the run
    (:func:`start_state`, :func:`restore_state`), train (:func:`train_steps`), measure
    and save (:func:`run_info`).

    inputs (Sequence[Path]): Text files (one text a line) and/or ``.spacy`` DocBins.
    output (Path): Model folder to write (also holds the checkpoint and the log).
    base (str): Hugging Face model folder or hub name to start from.
    settings (PretrainSettings): Hyper-parameters and budget.
    resume (bool): Continue from the checkpoint in ``output``.
    overwrite (bool): Replace an earlier pretrain output in ``output``.
    progress (bool): Show tqdm progress bars (stderr).
    RETURNS (Dict[str, Any]): What ``pretraining.json`` holds: settings, perplexities,
        tokens, time, text statistics.
    """
    import torch

    settings.check()
    checkpoint = prepare_output(output, base, resume=resume, overwrite=overwrite)
    saved = load_saved_state(checkpoint, settings, base=base, inputs=inputs)
    if saved is not None and saved.step >= settings.max_steps and (output / INFO_FILE).exists():
        logger.info("%s is already at step %d of %d: nothing to do", output, saved.step,
                    settings.max_steps)
        return dict(json.loads((output / INFO_FILE).read_text()))
    if settings.threads > 0:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)

    tokenizer, model, new_head = load_mlm_model(base)
    model.to(settings.device)
    data = prepare_data(inputs, tokenizer, settings, progress=progress)
    optimizer = _optimizer(model, settings)
    if saved is not None:
        assert checkpoint is not None
        state = restore_state(saved, checkpoint, model, optimizer, data, settings, output)
    else:
        output.mkdir(parents=True, exist_ok=True)
        state = start_state(model, data, settings, base=base, inputs=inputs,
                            new_head=new_head, progress=progress)
        (output / LOG_FILE).unlink(missing_ok=True)
    stopped_early = train_steps(model, optimizer, data, state, settings, output,
                                progress=progress)
    state.perplexity["after"] = data.measure(model)
    logger.info("Held-out MLM perplexity after: %s", state.perplexity["after"])
    info = run_info(state, data, tokenizer, settings, base=base, new_head=new_head,
                    stopped_early=stopped_early)
    save_model(model, tokenizer, output, info)
    return info


def load_saved_state(checkpoint: Optional[Path], settings: PretrainSettings, *, base: str,
                     inputs: Sequence[Path]) -> Optional[TrainerState]:
    """The state of the checkpoint to resume from (None for a fresh run); raises when the
    run would continue with other settings, base or inputs."""
    if checkpoint is None:
        return None
    saved = TrainerState(**json.loads((checkpoint / STATE_FILE).read_text()))
    defaults = PretrainSettings()
    diffs = [f"{k}: {saved.settings.get(k)} (checkpoint) vs {getattr(settings, k)}"
             for k in RESUME_KEYS
             if saved.settings.get(k, getattr(defaults, k)) != getattr(settings, k)]
    if saved.base != base:
        diffs.append(f"base: {saved.base} (checkpoint) vs {base}")
    if saved.inputs != [str(p) for p in inputs]:
        diffs.append(f"inputs: {saved.inputs} (checkpoint) vs {[str(p) for p in inputs]}")
    if diffs:
        raise PretrainError("cannot resume with different settings:\n  " + "\n  ".join(diffs))
    return saved


@dataclass
class PretrainData:
    """The packed training and held-out sequences of a run, and how they are masked."""

    train: np.ndarray
    heldout: np.ndarray
    masker: WholeWordMasker
    pad_id: int
    stats: TextStats
    eval_batch_size: int
    device: str

    def measure(self, model: Any) -> Optional[float]:
        """Held-out MLM perplexity with the fixed evaluation masks."""
        return perplexity(model, self.heldout, self.masker, pad_id=self.pad_id,
                          batch_size=self.eval_batch_size, device=self.device)


def prepare_data(inputs: Sequence[Path], tokenizer: Any, settings: PretrainSettings, *,
                 progress: bool) -> PretrainData:
    """Read the inputs, split off the held-out texts and pack both into sequences."""
    stats = TextStats()
    texts, heldout_texts = read_texts(inputs, stats=stats, max_chars=settings.max_line_chars,
                                      heldout_every=settings.heldout_every,
                                      allow_eval_text=settings.allow_eval_text,
                                      repeats=settings.repeats)
    for example in stats.examples:
        logger.warning(example)
    train = pack_texts(texts, tokenizer, settings.seq_len, progress=progress)
    heldout = pack_texts(heldout_texts, tokenizer, settings.seq_len)[: settings.heldout_max_seqs]
    masker = WholeWordMasker(tokenizer, mask_prob=settings.mask_prob, seed=settings.seed)
    logger.info("%d training sequences of %d pieces (%s masking), %d held-out", len(train),
                settings.seq_len, masker.scheme, len(heldout))
    return PretrainData(train, heldout, masker, int(tokenizer.pad_token_id), stats,
                        settings.eval_batch_size, settings.device)


def start_state(model: Any, data: PretrainData, settings: PretrainSettings, *, base: str,
                inputs: Sequence[Path], new_head: List[str], progress: bool) -> TrainerState:
    """A fresh run: fit a newly attached head first, then measure the "before" perplexity."""
    state = TrainerState(base=base, inputs=[str(p) for p in inputs],
                         settings=asdict(settings), data_fingerprint=fingerprint(data.train),
                         new_head=new_head)
    if new_head:
        init_head_bias(model, data.train, data.pad_id)
        state.perplexity["new_head"] = data.measure(model)
        fit_new_head(model, data.train, data.masker, new_head, settings, data.pad_id, progress)
    state.perplexity["before"] = data.measure(model)
    logger.info("Held-out MLM perplexity before: %s", state.perplexity["before"])
    return state


def restore_state(saved: TrainerState, checkpoint: Path, model: Any, optimizer: Any,
                  data: PretrainData, settings: PretrainSettings, output: Path) -> TrainerState:
    """Load weights, optimizer and RNG state of ``checkpoint``; RETURNS the run's state."""
    import torch

    data_id = fingerprint(data.train)
    if saved.data_fingerprint != data_id:
        raise PretrainError(f"the input text changed since the checkpoint in {output} "
                            f"({saved.data_fingerprint} vs {data_id}); cannot resume")
    device = settings.device
    model.load_state_dict(torch.load(checkpoint / "model.pt", map_location=device))
    optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", map_location=device))
    torch.set_rng_state(torch.load(checkpoint / "rng.pt")["torch"])
    state = saved
    finished_at = int(saved.settings.get("max_steps", 0))
    if state.step >= finished_at and settings.max_steps > finished_at:
        # A finished run given more steps: the schedule becomes that of the new total,
        # so the learning rate steps back up from ~0 (a warm restart), then decays to 0.
        state.extended_from.append(finished_at)
        logger.warning("Extending a finished %d-step run to %d steps: the learning rate "
                       "follows the %d-step schedule from step %d (%.2e)", finished_at,
                       settings.max_steps, settings.max_steps, state.step,
                       settings.learning_rate * lr_factor(state.step, settings.max_steps,
                                                          settings.warmup_fraction))
    state.settings = asdict(settings)
    logger.info("Resuming %s at step %d (epoch %d, sequence %d of %d)", output,
                state.step, state.epoch, state.position, len(data.train))
    return state


def _autocast(settings: PretrainSettings) -> Any:
    import torch

    if settings.precision == "bf16":
        return torch.autocast(device_type=torch.device(settings.device).type,
                              dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_step(model: Any, optimizer: Any, stream: Iterator[Tuple[int, int, List[int]]],
               data: PretrainData, state: TrainerState,
               settings: PretrainSettings) -> Tuple[float, int, float]:
    """One optimizer step over ``settings.accumulate`` batches.

    RETURNS (Tuple[float, int, float]): Loss per masked token, tokens seen, learning rate.
    """
    import torch

    device = settings.device
    micro = []
    for _ in range(settings.accumulate):
        epoch, position, index = next(stream)
        batch = data.train[index]
        inputs_np, labels_np = data.masker.mask_batch(batch, index, epoch)
        micro.append((batch, inputs_np, labels_np))
        state.epoch, state.position = epoch, position
    n_masked = sum(int((m[2] != IGNORE_INDEX).sum()) for m in micro)
    total_loss, tokens = 0.0, 0
    for batch, inputs_np, labels_np in micro:
        with _autocast(settings):
            loss, _ = mlm_loss_sum(model, torch.from_numpy(inputs_np).to(device),
                                   torch.from_numpy(labels_np).to(device),
                                   torch.from_numpy(batch != data.pad_id).long().to(device))
        (loss / max(1, n_masked)).backward()
        total_loss += loss.item()
        tokens += int((batch != data.pad_id).sum())
    state.tokens_seen += tokens
    lr = settings.learning_rate * lr_factor(state.step, settings.max_steps,
                                            settings.warmup_fraction)
    for group in optimizer.param_groups:
        group["lr"] = lr
    if settings.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    state.step += 1
    return total_loss / max(1, n_masked), tokens, lr


def train_steps(model: Any, optimizer: Any, data: PretrainData, state: TrainerState,
                settings: PretrainSettings, output: Path, *, progress: bool) -> bool:
    """Train from ``state`` to ``settings.max_steps``: log, checkpoint, stop at the time
    limit. RETURNS (bool): Whether the time limit stopped the run early."""
    from tqdm import tqdm

    n_train = len(data.train)

    def order_for(epoch: int) -> np.ndarray:
        return np.random.default_rng([settings.seed, epoch]).permutation(n_train)

    stream = batches(order_for, n_train, settings.batch_size, state.epoch, state.position)
    model.train()
    bar = tqdm(total=settings.max_steps, initial=state.step, desc="pretraining", unit="step",
               disable=None if progress else True, dynamic_ncols=True)
    session_tokens, session_start = 0, time.perf_counter()
    stopped_early = False
    with (output / LOG_FILE).open("a", encoding="utf8") as log:
        while state.step < settings.max_steps:
            started = time.perf_counter()
            step_loss, tokens, lr = train_step(model, optimizer, stream, data, state, settings)
            state.train_seconds += time.perf_counter() - started
            session_tokens += tokens
            speed = session_tokens / max(1e-9, time.perf_counter() - session_start)
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.3f}", tok_s=f"{speed:,.0f}", lr=f"{lr:.2e}",
                            epoch=f"{state.epoch + state.position / n_train:.2f}")
            if state.step % settings.log_every == 0 or state.step == settings.max_steps:
                log.write(json.dumps({"step": state.step, "loss": round(step_loss, 4),
                                      "lr": lr, "tokens_seen": state.tokens_seen,
                                      "tokens_per_s": round(speed, 1),
                                      "epoch": state.epoch, "position": state.position}) + "\n")
                log.flush()
                if bar.disable:
                    # No progress bar (not a terminal, or --quiet): a line per log interval.
                    logger.info("step %d/%d  loss %.4f  %.0f tokens/s  lr %.2e",
                                state.step, settings.max_steps, step_loss, speed, lr)
            if state.step % settings.save_every == 0 or state.step == settings.max_steps:
                save_checkpoint(output, model, optimizer, state)
            elapsed = time.perf_counter() - session_start
            if (settings.time_limit_minutes > 0 and state.step < settings.max_steps
                    and elapsed > 60 * settings.time_limit_minutes):
                # Out of time: keep what was learnt (a checkpoint to --resume from, and
                # the model) instead of losing it; the schedule had not decayed to 0.
                save_checkpoint(output, model, optimizer, state)
                stopped_early = True
                logger.warning("Time limit of %s min reached at step %d of %d; saving "
                               "(--resume continues)", settings.time_limit_minutes,
                               state.step, settings.max_steps)
                break
    bar.close()
    return stopped_early


def run_info(state: TrainerState, data: PretrainData, tokenizer: Any,
             settings: PretrainSettings, *, base: str, new_head: List[str],
             stopped_early: bool) -> Dict[str, Any]:
    """What ``pretraining.json`` records about a run."""
    import torch

    lowercase = getattr(tokenizer, "do_lower_case",
                        tokenizer.init_kwargs.get("do_lower_case", False))
    return {
        "base": base,
        "inputs": state.inputs,
        "steps": state.step,
        "stopped_early": stopped_early,
        "epochs": round(state.epoch + state.position / len(data.train), 3),
        "tokens_seen": state.tokens_seen,
        "train_seconds": round(state.train_seconds, 1),
        "tokens_per_second": round(state.tokens_seen / max(1e-9, state.train_seconds), 1),
        "train_sequences": int(len(data.train)),
        "heldout_sequences": int(len(data.heldout)),
        "perplexity": state.perplexity,
        "new_head": new_head,
        "extended_from": state.extended_from,
        "masking": data.masker.scheme,
        "tokenizer": {"class": type(tokenizer).__name__, "lowercase": bool(lowercase),
                      "vocab_size": len(tokenizer)},
        "settings": asdict(settings),
        "text": data.stats.to_dict(),
        "torch_threads": torch.get_num_threads(),
    }


__all__ = ["PretrainDataError", "PretrainError", "PretrainSettings", "pretrain"]
