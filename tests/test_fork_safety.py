"""nlp.pipe(n_process=2) after the parent already ran torch multi-threaded: the forked
workers must not hang (our components install an at-fork hook when they are created)."""
import multiprocessing
import os
import signal
import time
from typing import List, Tuple

import pytest
from spacy.language import Language

from spacy_biobert.fork_safety import install_fork_hook

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(signal, "SIGALRM"),
                                reason="needs fork and SIGALRM")

TEXTS = ["Lithium and aspirin were given .", "BRCA1 is mutated in tumours .",
         "Rats given cocaine died .", "The p53 protein binds DNA ."] * 2


def _ents(docs) -> List[List[Tuple[str, str]]]:  # type: ignore[no-untyped-def]
    return [[(e.text, e.label_) for e in doc.ents] for doc in docs]


def _wait(pid: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"forked child still running after {seconds} s (deadlock)")


def test_forked_child_runs_torch_after_parent_did(monkeypatch: pytest.MonkeyPatch) -> None:
    import tokenizers  # noqa: F401  (the hook quiets its fork warning once it is loaded)
    import torch

    monkeypatch.delenv("TOKENIZERS_PARALLELISM", raising=False)
    assert install_fork_hook()
    assert install_fork_hook()  # idempotent
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        x = torch.randn(256, 256)
        for _ in range(3):
            (x @ x).sum()  # the parent's OpenMP pool is now up
        pid = os.fork()
        if pid == 0:  # child: exit code says what it saw
            code = 3
            try:
                if (torch.get_num_threads() == 1
                        and os.environ.get("TOKENIZERS_PARALLELISM") == "false"):
                    y = torch.randn(800, 800)
                    float((y @ y).sum())
                    code = 0
            finally:
                os._exit(code)
        assert _wait(pid, 60) == 0
        assert torch.get_num_threads() == 2  # the parent keeps its settings
        assert "TOKENIZERS_PARALLELISM" not in os.environ
    finally:
        torch.set_num_threads(threads)


def test_multiprocess_pipe_after_inference(trained_nlp: Language) -> None:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the case that hung: a multi-threaded parent
    before = set(multiprocessing.active_children())

    def expire(signum, frame):  # type: ignore[no-untyped-def]
        for proc in set(multiprocessing.active_children()) - before:
            proc.kill()
        raise TimeoutError("nlp.pipe(n_process=2) deadlocked")

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        single = _ents(trained_nlp.pipe(TEXTS, batch_size=2))
        assert any(single)
        signal.alarm(120)
        multi = _ents(trained_nlp.pipe(TEXTS, batch_size=2, n_process=2))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        torch.set_num_threads(threads)
    assert multi == single
