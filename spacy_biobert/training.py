"""What ``spacy train`` runs beside the pipeline: config checks and progress lines.

**Checks.** Settings that spaCy would only fail on late, or never.

``spacy train`` reads ``training.max_steps = 0`` as "no step limit": with
``max_epochs = 0`` as well (stream the corpus forever), such a run never ends. A
learning-rate schedule whose ``total_steps`` differs from ``max_steps`` ends its decay
too early or never finishes it. The configs run
``spacy-biobert.check_training.v1`` as ``[initialize.before_init]``, so that bad
settings stop ``spacy train`` before the pipeline is initialized, naming the setting.

**Progress.** spaCy's console logger prints a table row per evaluation and draws its
progress bar only on a terminal; between two evaluations of a long CPU run (or in a
log file) nothing shows. ``spacy-biobert.ProgressLogger.v1`` is that logger plus, when
the output is no terminal, a line every ``every_seconds``: step, rate and time left.
"""
import logging
import sys
import time
from typing import IO, Any, Callable, Dict, Optional, Tuple

from spacy.language import Language
from spacy.util import registry

logger = logging.getLogger(__name__)


def _int_setting(training: Dict[str, Any], name: str) -> int:
    value = training.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"training.{name} must be a whole number, got {value!r}")
    return value


def check_training(training: Dict[str, Any]) -> None:
    """Raise a ValueError naming the setting if ``[training]`` cannot train as meant.

    training (Dict[str, Any]): The ``[training]`` section of a filled config.
    """
    max_steps = _int_setting(training, "max_steps")
    max_epochs = _int_setting(training, "max_epochs")
    eval_frequency = _int_setting(training, "eval_frequency")
    if max_steps < 0 or (max_steps == 0 and max_epochs <= 0):
        raise ValueError(
            f"training.max_steps must be > 0 (got {max_steps}; with training.max_epochs = "
            f"{max_epochs} the run would never stop). In the project: --vars.max_steps N"
        )
    if eval_frequency < 1:
        raise ValueError(f"training.eval_frequency must be >= 1, got {eval_frequency}")
    schedule = (training.get("optimizer") or {}).get("learn_rate")
    total = schedule.get("total_steps") if isinstance(schedule, dict) else None
    if max_steps and isinstance(total, int) and total != max_steps:
        logger.warning(
            "training.optimizer.learn_rate.total_steps (%d) differs from training.max_steps "
            "(%d): the learning rate %s", total, max_steps,
            "reaches 0 before the last step" if total < max_steps else "never decays fully",
        )


@registry.callbacks("spacy-biobert.check_training.v1")
def create_check_training() -> Callable[[Language], Language]:
    """Registered ``before_init`` callback: :func:`check_training` on the nlp's config."""

    def before_init(nlp: Language) -> Language:
        check_training(dict(nlp.config.interpolate().get("training", {})))
        return nlp

    return before_init


LogStep = Callable[[Optional[Dict[str, Any]]], None]


def progress_line(step: int, total: int, elapsed: float) -> str:
    """``step 120/3000 (4.0 %), 1.52 s/step, 1 h 13 min left`` (rate since the start)."""
    rate = elapsed / step if step else 0.0
    left = int(rate * max(total - step, 0) / 60)
    hours, minutes = divmod(left, 60)
    remaining = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    share = 100.0 * step / total if total else 0.0
    return f"step {step}/{total} ({share:.1f} %), {rate:.2f} s/step, {remaining} left"


@registry.loggers("spacy-biobert.ProgressLogger.v1")
def create_progress_logger(
    progress_bar: Optional[str] = "train", every_seconds: float = 60.0
) -> Callable[..., Tuple[LogStep, Callable[[], None]]]:
    """spaCy's ``ConsoleLogger.v3`` plus a progress line when not on a terminal.

    progress_bar (Optional[str]): The console logger's bar on a terminal: "train" (all
        steps, with the time left), "eval" (steps to the next evaluation) or None (no bar).
    every_seconds (float): Seconds between two progress lines in a log file or pipe.
    """
    if not every_seconds > 0:
        raise ValueError(f"ProgressLogger: every_seconds must be > 0, got {every_seconds!r}")
    console = registry.get("loggers", "spacy.ConsoleLogger.v3")(progress_bar=progress_bar)

    def setup(nlp: Language, stdout: IO = sys.stdout, stderr: IO = sys.stderr
              ) -> Tuple[LogStep, Callable[[], None]]:
        log_step, finalize = console(nlp, stdout, stderr)
        total = int(nlp.config.interpolate()["training"]["max_steps"])
        quiet = bool(getattr(stderr, "isatty", lambda: False)())
        start = last = time.monotonic()
        step = 0

        def log(info: Optional[Dict[str, Any]]) -> None:
            nonlocal step, last
            log_step(info)
            step = int(info["step"]) if info is not None else step + 1
            now = time.monotonic()
            if not quiet and now - last >= every_seconds:
                last = now
                stderr.write(progress_line(step, total, now - start) + "\n")
                stderr.flush()

        return log, finalize

    return setup
