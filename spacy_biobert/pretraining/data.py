"""Text for masked-language-model pretraining: reading, packing and whole-word masking.

Text files are read one text per line, byte by byte, so that a bad byte costs one
replacement character instead of the whole run; ``.spacy`` files (``DocBin``) give one
text per sentence. Texts are tokenized once, joined into one stream of wordpieces and cut
into fixed-length sequences (``[CLS] … [SEP]``, no padding except in the last one), the
"sequence packing" of RoBERTa (Liu et al. 2019). Masks are drawn when a batch is built
(dynamic masking, same paper) from a generator seeded by (seed, epoch, sequence), so every
epoch sees new masks and a resumed run sees exactly the masks the killed run would have.
Masks cover whole words (all wordpieces of a word or none), as in BERT's whole-word
masking release and BioBERT.
"""
import logging
import re
from array import array
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

logger = logging.getLogger("spacy_biobert.pretraining")

#: Lines longer than this are split at white space (bounded tokenizer memory and time).
MAX_LINE_CHARS = 10_000
#: A file where more than this share of lines has invalid UTF-8 is not text.
MAX_BAD_LINE_SHARE = 0.1
#: Names of held-out splits: their text must never be pretrained on.
EVAL_SPLIT_NAME = re.compile(r"dev|test|valid", re.IGNORECASE)
#: Label value of positions the loss ignores (PyTorch's cross-entropy default).
IGNORE_INDEX = -100


class PretrainDataError(ValueError):
    """Input text that cannot be used (names the file and line)."""


@dataclass
class TextStats:
    """What reading the inputs kept, split and skipped."""

    files: List[str] = field(default_factory=list)
    texts: int = 0
    chars: int = 0
    heldout_texts: int = 0
    empty_lines: int = 0
    bad_byte_lines: int = 0
    split_lines: int = 0
    #: Files read more than once (``--repeat``): path -> copies.
    repeats: Dict[str, int] = field(default_factory=dict)
    examples: List[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(message)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def check_train_split(path: Path) -> None:
    """Refuse a file named like a dev/test split: pretraining must not see evaluation text."""
    if EVAL_SPLIT_NAME.search(path.name):
        raise PretrainDataError(
            f"{path}: the name looks like a development/test split; pretraining on it would "
            "leak evaluation text into the model. Pass train-split files only "
            "(or --allow-eval-text if this file is not an evaluation split).")


def parse_repeats(specs: Iterable[str], inputs: Sequence[Path]) -> Dict[str, int]:
    """``PATH=N`` specs (``--repeat``) as {input path: copies}; PATH must be an input."""
    repeats: Dict[str, int] = {}
    for spec in specs:
        path, sep, count = spec.rpartition("=")
        if not sep or not path:
            raise PretrainDataError(f"--repeat {spec!r}: expected PATH=N, e.g. "
                                    "corpus/bc5cdr_train.spacy=10")
        if not (count.isascii() and count.isdigit()):
            raise PretrainDataError(f"--repeat {spec!r}: N must be a whole number >= 1")
        repeats[str(Path(path))] = int(count)
    check_repeats(repeats, inputs)
    return repeats


def check_repeats(repeats: Dict[str, int], inputs: Sequence[Path]) -> None:
    """Every repeated path is an input, every count a whole number >= 1."""
    names = {str(Path(p)) for p in inputs}
    for path, count in repeats.items():
        if str(Path(path)) not in names:
            raise PretrainDataError(f"--repeat '{path}={count}': {path} is not one of the "
                                    f"inputs ({', '.join(sorted(names))})")
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise PretrainDataError(f"--repeat '{path}={count}': N must be a whole number >= 1")


def split_long_text(text: str, max_chars: int) -> List[str]:
    """Cut ``text`` into pieces of at most ``max_chars`` characters, at white space
    where there is some in the second half of the window."""
    pieces = []
    while len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        if cut <= max_chars // 2:
            cut = max_chars
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return [p for p in pieces if p]


def _text_file_lines(path: Path, stats: TextStats) -> Iterator[Tuple[int, str]]:
    """(line number, text) for each line of a text file, invalid bytes replaced."""
    total = bad = 0
    with path.open("rb") as file:
        for lineno, raw in enumerate(file, 1):
            total += 1
            try:
                text = raw.decode("utf8")
            except UnicodeDecodeError as err:
                bad += 1
                stats.bad_byte_lines += 1
                stats.note(f"{path}:{lineno}: invalid UTF-8 byte at column {err.start + 1}, "
                           "replaced by U+FFFD")
                if bad > 10 and bad > MAX_BAD_LINE_SHARE * total:
                    raise PretrainDataError(
                        f"{path}:{lineno}: {bad} of the first {total} lines are not valid "
                        "UTF-8; is this a text file (one text a line, UTF-8)?") from None
                text = raw.decode("utf8", errors="replace")
            yield lineno, text


def docbin_texts(path: Path) -> Iterator[Tuple[int, str]]:
    """(document number, sentence text) for each sentence of a DocBin's documents."""
    import spacy
    from spacy.tokens import DocBin

    try:
        docbin = DocBin(store_user_data=True).from_disk(path)
        docs = list(docbin.get_docs(spacy.blank("en").vocab))
    except Exception as err:  # DocBin raises several types for a damaged file
        raise PretrainDataError(f"{path}: not a readable spaCy DocBin: {err}") from err
    for number, doc in enumerate(docs, 1):
        if doc.has_annotation("SENT_START"):
            for sent in doc.sents:
                yield number, sent.text
        else:
            yield number, doc.text


def read_texts(
    paths: Sequence[Path],
    *,
    stats: TextStats,
    max_chars: int = MAX_LINE_CHARS,
    heldout_every: int = 0,
    allow_eval_text: bool = False,
    repeats: Optional[Dict[str, int]] = None,
) -> Tuple[List[str], List[str]]:
    """Read training texts and the held-out slice from text files and DocBins.

    paths (Sequence[Path]): ``.txt``-like files (one text a line) or ``.spacy`` files.
    stats (TextStats): Counts what was kept, split and skipped.
    max_chars (int): Longer lines are split at white space.
    heldout_every (int): Every N-th line of the first input (by line number) goes to the
        held-out slice instead of training; 0 = no held-out slice.
    allow_eval_text (bool): Accept files named like dev/test splits.
    repeats (Optional[Dict[str, int]]): Input path -> copies of its training texts (to
        weight the task's own text, "task-adaptive pretraining"); held-out lines are
        never repeated into training.
    RETURNS (Tuple[List[str], List[str]]): Training texts, held-out texts.
    """
    if not paths:
        raise PretrainDataError("no input files given")
    check_repeats(repeats or {}, paths)
    copies_of = {str(Path(path)): count for path, count in (repeats or {}).items()}
    train: List[str] = []
    heldout: List[str] = []
    seen = set()
    for file_index, path in enumerate(paths):
        path = Path(path)
        if str(path) in seen:
            raise PretrainDataError(
                f"{path} is given twice; to weight a file, give it once with "
                f"--repeat {path}=N")
        seen.add(str(path))
        if not path.exists():
            raise PretrainDataError(f"{path}: no such file")
        if path.is_dir():
            raise PretrainDataError(f"{path}: is a folder; pass the text files in it")
        if not allow_eval_text:
            check_train_split(path)
        stats.files.append(str(path))
        before, chars_before = stats.texts, stats.chars
        first = len(train)
        lines: Iterable[Tuple[int, str]]
        lines = docbin_texts(path) if path.suffix == ".spacy" else _text_file_lines(path, stats)
        for lineno, raw_text in lines:
            text = raw_text.strip()
            if not text:
                stats.empty_lines += 1
                continue
            pieces = [text]
            if len(text) > max_chars:
                pieces = split_long_text(text, max_chars)
                stats.split_lines += 1
                stats.note(f"{path}:{lineno}: line of {len(text):,} characters split into "
                           f"{len(pieces)} pieces of at most {max_chars:,}")
            held = file_index == 0 and heldout_every > 0 and lineno % heldout_every == 0
            (heldout if held else train).extend(pieces)
            if held:
                stats.heldout_texts += len(pieces)
            else:
                stats.texts += len(pieces)
                stats.chars += sum(len(p) for p in pieces)
        if stats.texts == before:
            logger.warning("%s: no text in this file", path)
        copies = copies_of.get(str(path), 1)
        if copies > 1:
            train.extend(train[first:] * (copies - 1))
            stats.texts += (stats.texts - before) * (copies - 1)
            stats.chars += (stats.chars - chars_before) * (copies - 1)
            stats.repeats[str(path)] = copies
    if not train:
        raise PretrainDataError(
            f"no text to train on in {', '.join(str(p) for p in paths)} (all lines empty?)")
    return train, heldout


def pack_texts(
    texts: Sequence[str], tokenizer: Any, seq_len: int, *, batch_size: int = 1000,
    progress: bool = False,
) -> np.ndarray:
    """Tokenize texts into one wordpiece stream and cut it into packed sequences.

    Texts are separated by ``[SEP]``; each sequence is ``[CLS]`` + ``seq_len - 2`` pieces
    + ``[SEP]``. Only the last sequence is padded.

    RETURNS (np.ndarray): int32 array of shape ``(n_sequences, seq_len)``.
    """
    if seq_len < 8:
        raise ValueError(f"sequence length {seq_len} is too short (minimum 8)")
    cls_id, sep_id, pad_id = tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id
    if cls_id is None or sep_id is None or pad_id is None:
        raise ValueError("the tokenizer has no [CLS]/[SEP]/[PAD] tokens (not BERT-like)")
    stream = array("i")
    batches = range(0, len(texts), batch_size)
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="tokenizing", unit="batch", leave=False, disable=None)
    for start in batches:
        encoded = tokenizer(list(texts[start:start + batch_size]), add_special_tokens=False,
                            return_attention_mask=False, return_token_type_ids=False,
                            verbose=False)["input_ids"]
        for ids in encoded:
            if ids:
                stream.extend(ids)
                stream.append(sep_id)
    flat = np.frombuffer(stream, dtype=np.int32)
    body = seq_len - 2
    n_full, rest = divmod(len(flat), body)
    n_seqs = n_full + (1 if rest else 0)
    out = np.full((n_seqs, seq_len), pad_id, dtype=np.int32)
    out[:n_full, 0] = cls_id
    out[:n_full, 1:-1] = flat[:n_full * body].reshape(n_full, body)
    out[:n_full, -1] = sep_id
    if rest:
        out[n_full, 0] = cls_id
        out[n_full, 1:1 + rest] = flat[n_full * body:]
        out[n_full, 1 + rest] = sep_id
    return out


class WholeWordMasker:
    """Dynamic whole-word masking for BERT's MLM objective.

    About ``mask_prob`` of the (non-special) wordpieces of a sequence are chosen by picking
    random whole words; a chosen piece becomes ``[MASK]`` (80 %), a random piece (10 %) or
    stays (10 %). Word boundaries come from the vocabulary: WordPiece ``##`` marks a
    continuation; byte-BPE ``Ġ`` and SentencePiece ``▁`` mark a word start.
    """

    def __init__(self, tokenizer: Any, *, mask_prob: float = 0.15, seed: int = 0) -> None:
        if not 0.0 < mask_prob < 1.0:
            raise ValueError(f"mask probability must be in (0, 1), got {mask_prob}")
        if tokenizer.mask_token_id is None:
            raise ValueError("the tokenizer has no [MASK] token: it cannot train a masked LM")
        self.mask_prob = mask_prob
        self.seed = seed
        self.mask_id = int(tokenizer.mask_token_id)
        vocab: Dict[str, int] = tokenizer.get_vocab()
        size = max(len(tokenizer), max(vocab.values()) + 1)
        self.special = np.zeros(size, dtype=bool)
        for token_id in tokenizer.all_special_ids:
            self.special[token_id] = True
        self.continuation = np.zeros(size, dtype=bool)
        pieces = list(vocab.items())
        if sum(tok.startswith("##") for tok, _ in pieces) > 0.05 * len(pieces):
            self.scheme = "wordpiece"
            for tok, idx in pieces:
                self.continuation[idx] = tok.startswith("##")
        else:
            starts = [m for m in ("Ġ", "▁")
                      if sum(t.startswith(m) for t, _ in pieces) > 0.05 * len(pieces)]
            if starts:
                self.scheme = f"word-start {starts[0]!r}"
                for tok, idx in pieces:
                    self.continuation[idx] = not tok.startswith(starts[0])
            else:
                self.scheme = "token"
                logger.warning("No word-boundary marks in the vocabulary: masking single "
                               "tokens instead of whole words")
        self.random_ids = np.flatnonzero(~self.special[: len(vocab)])

    def mask_row(self, ids: np.ndarray, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
        """Mask one sequence. RETURNS: (input ids, labels with IGNORE_INDEX off the mask)."""
        cand = ~self.special[ids]
        n_tokens = int(cand.sum())
        labels = np.full(ids.shape, IGNORE_INDEX, dtype=np.int64)
        inputs = ids.astype(np.int64)
        if n_tokens == 0:
            return inputs, labels
        prev_cand = np.concatenate(([False], cand[:-1]))
        starts = cand & (~self.continuation[ids] | ~prev_cand)
        word_of = np.cumsum(starts) - 1
        n_words = int(starts.sum())
        word_len = np.bincount(word_of[cand], minlength=n_words)
        target = max(1, int(round(self.mask_prob * n_tokens)))
        order = rng.permutation(n_words)
        chosen = order[np.cumsum(word_len[order]) <= target]
        if len(chosen) == 0:
            chosen = order[:1]
        masked = cand & np.isin(word_of, chosen)
        labels[masked] = ids[masked]
        where = np.flatnonzero(masked)
        roll = rng.random(len(where))
        inputs[where[roll < 0.8]] = self.mask_id
        swap = where[(roll >= 0.8) & (roll < 0.9)]
        if len(swap):
            inputs[swap] = rng.choice(self.random_ids, size=len(swap))
        return inputs, labels

    def mask_batch(
        self, seqs: np.ndarray, indices: Sequence[int], epoch: int,
        seed: Optional[int] = None, stream: int = 0,
    ) -> Tuple[np.ndarray, np.ndarray]:
        """Mask a batch; the mask of sequence ``indices[i]`` depends only on (seed, stream,
        epoch, index): the same in a resumed run, new in each epoch."""
        base = self.seed if seed is None else seed
        inputs = np.empty(seqs.shape, dtype=np.int64)
        labels = np.empty(seqs.shape, dtype=np.int64)
        for row, index in enumerate(indices):
            rng = np.random.default_rng([base, stream, epoch, int(index)])
            inputs[row], labels[row] = self.mask_row(seqs[row], rng)
        return inputs, labels
