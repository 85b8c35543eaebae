"""Token-per-line IOB files (CoNLL style): BC2GM, LINNAEUS and similar.

::

    Immunohistochemical<TAB>O
    Scp160p<TAB>B-GENE
    <blank line between sentences>

The token is the first column and the tag the last; tags are IOB2 (``B-X``,
``I-X``, ``O``). An ``I-X`` that does not continue an ``X`` is read as ``B-X`` and
counted (``iob_repaired``). These files carry no document boundaries and no
original white space: tokens are joined by single spaces, and ``sentences_per_doc``
consecutive sentences form one Doc (with their sentence boundaries kept), so the
transformer sees some context.
"""
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from spacy.language import Language
from spacy.training import Example
from spacy.util import registry

from .base import corpus_reader, read_text, resolve_label
from .records import ConversionReport, CorpusError, PathLike, RawDocument, RawMention

Sentence = List[Tuple[str, str, int]]  # (token, tag, line)


def iob_sentences(path: PathLike, text: str) -> Iterator[Sentence]:
    sentence: Sentence = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if sentence:
                yield sentence
                sentence = []
            continue
        if line.startswith("-DOCSTART-"):
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) < 2:
            raise CorpusError(
                f"malformed line {line[:60]!r}: expected 'token<TAB>tag'", path=path, line=number)
        token, tag = cols[0], cols[-1].strip()
        if not token.strip():
            raise CorpusError("empty token", path=path, line=number)
        if tag != "O" and not (len(tag) > 2 and tag[:2] in ("B-", "I-")):
            raise CorpusError(
                f"malformed tag {tag!r}: expected O, B-TYPE or I-TYPE", path=path, line=number)
        sentence.append((token, tag, number))
    if sentence:
        yield sentence


def parse_conll(
    path: PathLike,
    *,
    label_map: Optional[Dict[str, str]] = None,
    report: Optional[ConversionReport] = None,
    sentences_per_doc: int = 10,
) -> Iterator[RawDocument]:
    """Parse an IOB file into raw documents of ``sentences_per_doc`` sentences.

    path (PathLike): The file.
    label_map (Optional[Dict[str, str]]): Extra type -> label mappings.
    report (Optional[ConversionReport]): Collects counts and warnings.
    sentences_per_doc (int): Sentences per Doc (1 = one Doc per sentence).
    YIELDS (RawDocument): One record per group of sentences.
    """
    if sentences_per_doc < 1:
        raise ValueError("sentences_per_doc must be at least 1")
    report = report if report is not None else ConversionReport()
    text = read_text(path)
    stem = Path(path).stem
    group: List[Sentence] = []
    index = 0

    def flush(sentences: List[Sentence], first: int) -> RawDocument:
        doc_id = f"{stem}-{first + 1}"
        words: List[str] = []
        mentions: List[RawMention] = []
        starts: List[int] = []
        char = 0
        for sentence in sentences:
            starts.append(char)
            open_: Optional[Tuple[int, str, str, int]] = None  # start char, type, label, line
            last_end = char
            for token, tag, line in sentence:
                begin = char
                kind = tag[2:] if tag != "O" else ""
                if open_ is not None and (tag == "O" or tag.startswith("B-") or kind != open_[1]):
                    if open_[2]:  # "" = a type skipped on purpose (label_map "-")
                        mentions.append(_mention(text_of(words), open_, last_end))
                    open_ = None
                if tag != "O" and open_ is None:
                    if tag.startswith("I-"):
                        report.warn("iob_repaired", f"tag {tag} does not continue an entity; "
                                    "read as B-" + kind, path=path, line=line, doc_id=doc_id)
                    label = resolve_label(kind, label_map, report, path=path, line=line,
                                          doc_id=doc_id)
                    # a skipped type stays open too, so that its I- tags are not "stray"
                    open_ = (begin, kind, label or "", line)
                words.append(token)
                char += len(token) + 1
                last_end = begin + len(token)
            if open_ is not None and open_[2]:
                mentions.append(_mention(text_of(words), open_, last_end))
        full = text_of(words)
        return RawDocument(doc_id, full, path, sentences[0][0][2], mentions,
                           section_starts=starts, sentences_given=True)

    for sentence in iob_sentences(path, text):
        group.append(sentence)
        if len(group) == sentences_per_doc:
            yield flush(group, index)
            index += len(group)
            group = []
    if group:
        yield flush(group, index)


def text_of(words: List[str]) -> str:
    return " ".join(words)


def _mention(text: str, open_: Tuple[int, str, str, int], end: int) -> RawMention:
    start, kind, label, line = open_
    return RawMention(start, end, text[start:end], kind, label, (), line=line)


_create_iob_reader = corpus_reader(parse_conll, name="create_conll_reader",
                                   source="an IOB file")


@registry.readers("spacy-biobert.ConllCorpus.v1")
def create_conll_reader(
    path: Path,
    *,
    label_map: Optional[Dict[str, str]] = None,
    annotated_labels: Optional[Sequence[str]] = None,
    corpus: Optional[str] = None,
    strict: bool = False,
    limit: int = 0,
    sentences_per_doc: int = 10,
) -> Callable[[Language], Iterator[Example]]:
    return _create_iob_reader(path, label_map=label_map, annotated_labels=annotated_labels,
                              corpus=corpus, strict=strict, limit=limit,
                              sentences_per_doc=sentences_per_doc)


create_conll_reader.__doc__ = (
    str(_create_iob_reader.__doc__).rstrip()
    + "\n    sentences_per_doc (int): Consecutive sentences joined into one Doc.\n    ")
