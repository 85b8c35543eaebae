"""Keep ``nlp.pipe(texts, n_process=N)`` from hanging in forked worker processes.

On Linux ``multiprocessing`` forks its workers. PyTorch's CPU build runs its intra-op
parallelism on GNU OpenMP, whose thread pool does not survive ``fork``: once the parent
has run one multi-threaded op (any inference before ``nlp.pipe(..., n_process=2)``),
the child's first multi-threaded op waits forever on threads that were not copied.

:func:`install_fork_hook` (called when the NER head or the relation extractor is
created, so every pipeline that uses them has it, and by the commands that start worker
processes) registers an ``os.register_at_fork`` hook that sets
the forked child to one torch thread. A single-threaded op never touches the OpenMP
pool, so the worker runs; with several worker processes one thread each is also what
keeps the machine from being oversubscribed. The parent keeps its own setting.

Hugging Face ``tokenizers`` disables its own parallelism in a forked child too, but
warns about it on stderr once per worker unless ``TOKENIZERS_PARALLELISM`` is set; the
hook sets it to "false" just for the fork (the child keeps it, the parent gets its own
value back), which is the behaviour the library would pick anyway, without the noise.
"""
import logging
import os
import sys

logger = logging.getLogger(__name__)

_installed = False
_TOKENIZERS_ENV = "TOKENIZERS_PARALLELISM"
_UNSET = object()
_saved_env: object = _UNSET


def _before_fork() -> None:
    global _saved_env
    if "tokenizers" in sys.modules and _TOKENIZERS_ENV not in os.environ:
        _saved_env = None
        os.environ[_TOKENIZERS_ENV] = "false"


def _after_fork_in_parent() -> None:
    global _saved_env
    if _saved_env is None:
        os.environ.pop(_TOKENIZERS_ENV, None)
    _saved_env = _UNSET


def _single_thread_torch_in_child() -> None:
    # Only when the parent already imported torch: the hook must not import it (slow)
    # in children of programs that never use it.
    torch = sys.modules.get("torch")
    if torch is None:
        return
    try:
        if torch.get_num_threads() > 1:
            torch.set_num_threads(1)
    except Exception:  # pragma: no cover - never break a fork over a thread setting
        logger.debug("could not set torch threads in a forked child", exc_info=True)


def install_fork_hook() -> bool:
    """Register the fork hook once per process (no-op where ``fork`` does not exist).

    RETURNS (bool): Whether the hook is installed (now or before).
    """
    global _installed
    if _installed:
        return True
    if not hasattr(os, "register_at_fork"):  # Windows: workers are spawned, not forked
        return False
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_single_thread_torch_in_child)
    _installed = True
    return True
