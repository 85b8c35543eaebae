"""Inference robustness of the NER pipeline (``trained_nlp``, see conftest.py).

- Long documents go through the transformer in overlapping windows (strided spans):
  nothing is truncated and every token gets wordpieces from every window it is in.
- Malformed input neither crashes the pipeline nor changes the entities of the other
  documents in its batch.
- ``nlp.pipe`` gives the same entities in worker processes as in-process.
"""
import multiprocessing
import signal
from contextlib import contextmanager
from typing import Any, Dict, Iterable, Iterator, List, Tuple

import pytest
from spacy.language import Language
from spacy.tokens import Doc

Ents = List[Tuple[int, int, str]]

WINDOW, STRIDE = 16, 12  # the strided spans of trained_nlp's transformer
FILLER = "The patients were observed for two weeks after the first visit ."  # 12 tokens
# A training sentence, and an entity trained_nlp predicts in it.
TARGET = "Lithium and aspirin were given ."
TARGET_ENT = (0, 1, "CHEMICAL")  # "Lithium"

ORDINARY = [
    "Lithium and aspirin were given .",
    "BRCA1 is mutated in tumours .",
    "Aspirin caused bleeding in rats .",
    "BRCA1 rose after aspirin .",
    "The patients were observed for two weeks after the first visit .",
]
# Oversized tokens, each one spaCy token: "x" * 10000 is one [UNK] wordpiece (WordPiece
# gives up on words over 100 characters); "a.1a.1..." is ~10,000 wordpieces (BERT splits
# punctuation), more than the model's 512 positions, so its window gets truncated.
LONG_UNK = "x" * 10_000
LONG_PIECES = ("a.1" * 3334)[:10_000]
BAD = [
    "",
    " ",
    "   \n\t  \n ",
    LONG_UNK,
    LONG_PIECES,
    "\x00",
    "\x00 \x07 \x1b \u200b",
    "Lithium\x00 and\x07 aspirin\x1b were\u200b given .",
    "\u200b" * 50,
    "Η ασπιρίνη προκαλεί αιμορραγία . Литий и аспирин . 锂和阿司匹林 . "
    "الليثيوم والأسبرين . 💊🧬🐀",
]


def ents(doc: Doc) -> Ents:
    return [(e.start, e.end, e.label_) for e in doc.ents]


def check_trf_alignment(doc: Doc) -> None:
    """``doc._.trf_data`` covers every token, in every window that contains it.

    ``trf_data.align`` has one row per token, holding indices into the flattened
    (windows x wordpieces) arrays. The text must consist of words in the tiny BERT's
    vocabulary (ASCII letters, digits, "."): then the wordpieces aligned to a token,
    grouped by window, spell the token in each window the span getter puts it in.
    """
    from spacy_transformers.span_getters import get_strided_spans

    trf = doc._.trf_data
    assert trf.align.lengths.shape == (len(doc),)
    windows = get_strided_spans([doc], window=WINDOW, stride=STRIDE)[0]
    n_windows, seq_len = trf.wordpieces.input_ids.shape
    assert n_windows == len(windows) == len(trf.wordpieces.strings)
    assert trf.model_output.last_hidden_state.shape[:2] == (n_windows, seq_len)
    assert windows[-1].end == len(doc)
    expected: Dict[int, List[int]] = {i: [] for i in range(len(doc))}
    for w, span in enumerate(windows):
        for i in range(span.start, span.end):
            expected[i].append(w)
    attention = trf.wordpieces.attention_mask.reshape(-1)
    for token in doc:
        indices = trf.align[token.i].dataXd.ravel()
        assert len(indices), f"token {token.i} ({token.text!r}) has no wordpieces"
        assert attention[indices].all(), f"token {token.i} is aligned to padding"
        spelled: Dict[int, str] = {}
        for index in indices:
            row, col = divmod(int(index), seq_len)
            piece = trf.wordpieces.strings[row][col]
            assert piece not in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"), (token.i, piece)
            spelled[row] = spelled.get(row, "") + piece.replace("##", "")
        assert sorted(spelled) == expected[token.i], token.i
        assert set(spelled.values()) == {token.lower_}, (token.i, spelled)


def test_trained_nlp_predicts_the_target(trained_nlp: Language) -> None:
    assert TARGET_ENT in ents(trained_nlp(TARGET))


def test_alignment_check_on_short_documents(trained_nlp: Language) -> None:
    # Shorter than a window, one stride, one window, one token more, several windows.
    for n_tokens in (1, 11, 12, 16, 17, 25, 40):
        words = ("alpha beta gamma delta ." * 10).split()[:n_tokens]
        doc = trained_nlp(" ".join(words))
        assert len(doc) == n_tokens
        check_trf_alignment(doc)


def test_long_document_is_not_truncated(trained_nlp: Language) -> None:
    # ~5,000 words, ending with TARGET. A model trained for 30 updates on six sentences
    # depends on where the windows cut the text, so TARGET starts a window, as it did
    # in training (it also ends the previous one): what is tested is that the end of a
    # long document reaches the transformer, not that the tiny model generalizes.
    text = " ".join([FILLER] * 416 + [TARGET])
    doc = trained_nlp(text)
    target_start = len(doc) - len(trained_nlp.make_doc(TARGET))
    assert doc[target_start:].text == TARGET
    assert target_start > 4900 and target_start % STRIDE == 0
    check_trf_alignment(doc)
    expected = (target_start + TARGET_ENT[0], target_start + TARGET_ENT[1], TARGET_ENT[2])
    assert expected in ents(doc), ents(doc)[-5:]


def test_oversized_token_only_affects_its_own_windows(trained_nlp: Language) -> None:
    # LONG_PIECES (token 0) is cut to the model's 512 positions in the window 0..15;
    # TARGET (tokens 24..29) is in the windows 12..27 and 24..29, as in the long doc.
    text = " ".join([LONG_PIECES, FILLER, FILLER[: -len(" .")], TARGET])
    doc = trained_nlp(text)
    assert len(doc) == 30
    trf = doc._.trf_data
    assert trf.wordpieces.input_ids.shape[1] <= 512
    assert trf.align.lengths[0] > 0
    assert all(trf.align.lengths[STRIDE:] > 0)
    assert (24 + TARGET_ENT[0], 24 + TARGET_ENT[1], TARGET_ENT[2]) in ents(doc)


def _mixed(ordinary: List[str], bad: List[str]) -> List[str]:
    """Bad texts before, between and after the ordinary ones."""
    texts: List[str] = []
    for i in range(max(len(ordinary), len(bad))):
        texts.extend(bad[i:i + 1] + ordinary[i:i + 1])
    return texts + bad[:2]


def _check_outputs(texts: List[str], docs: Iterable[Doc], alone: Dict[str, Ents]) -> None:
    docs = list(docs)
    assert [doc.text for doc in docs] == texts
    for text, doc in zip(texts, docs):
        assert len(doc._.trf_data.align.lengths) == len(doc)
        if text in alone:
            assert ents(doc) == alone[text], text
        else:  # whatever the heads make of junk must be a valid entity layer
            assert all(0 <= s < e <= len(doc) for s, e, _ in ents(doc))


def test_bad_input_does_not_crash_or_shift_other_docs(trained_nlp: Language) -> None:
    assert len(trained_nlp.make_doc(LONG_UNK)) == 1
    assert len(trained_nlp.make_doc(LONG_PIECES)) == 1
    alone = {text: ents(trained_nlp(text)) for text in ORDINARY}
    assert sum(len(e) for e in alone.values()) >= 4  # the comparison means something
    for text in BAD:
        doc = trained_nlp(text)
        assert doc.text == text
        assert len(doc._.trf_data.align.lengths) == len(doc)
    texts = _mixed(ORDINARY, BAD)
    _check_outputs(texts, trained_nlp.pipe(texts, batch_size=2), alone)
    _check_outputs(texts, trained_nlp.pipe(texts, batch_size=len(texts)), alone)
    # Each ordinary doc in a batch of two with each bad doc, first and second.
    for bad in BAD:
        pairs = [t for text in ORDINARY for t in (bad, text)] + [bad]
        _check_outputs(pairs, trained_nlp.pipe(pairs, batch_size=2), alone)


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Raise TimeoutError after ``seconds``, killing the worker processes started since.

    Uses SIGALRM, so that ``nlp.pipe`` runs in the main thread, as for users (with
    the "fork" start method, the workers inherit the forking thread's OpenMP state).
    """
    before = set(multiprocessing.active_children())

    def expire(signum: int, frame: Any) -> None:
        for proc in set(multiprocessing.active_children()) - before:
            proc.kill()  # else nlp.pipe's cleanup would wait for them forever
        raise TimeoutError(f"not finished in {seconds} s (deadlocked worker processes?)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="the deadline needs SIGALRM")
def test_multiprocess_pipe_matches_single_process(trained_nlp: Language) -> None:
    import torch

    texts = ORDINARY + BAD + ORDINARY[::-1]
    single = [ents(doc) for doc in trained_nlp.pipe(texts, batch_size=2)]
    assert any(single)
    # With the "fork" start method (the default on Linux up to Python 3.13), a worker
    # deadlocks in its first multi-threaded PyTorch op (GNU OpenMP barrier) if the
    # forking thread already ran one in the parent: libgomp's thread pool does not
    # survive fork. Any inference before nlp.pipe(n_process=2), as above, is enough.
    # Forking while torch uses one thread avoids it (workers then use one thread).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with _deadline(120):
            multi = [ents(doc) for doc in trained_nlp.pipe(texts, batch_size=2, n_process=2)]
    finally:
        torch.set_num_threads(threads)
    assert multi == single

