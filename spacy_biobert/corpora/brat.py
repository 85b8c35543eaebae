"""BRAT standoff: a ``.txt`` file of text and a ``.ann`` file of annotations.

::

    T1<TAB>Chemical 0 11<TAB>Lidocaine-i
    T2<TAB>Disease 20 29;35 41<TAB>cardiac arrest
    R1<TAB>CID Arg1:T1 Arg2:T2
    N1<TAB>Reference T1 MESH:D008012<TAB>lidocaine
    #1<TAB>AnnotatorNotes T1<TAB>a note

``path`` is a directory (every ``*.txt`` in it, paired with the ``.ann`` of the
same name) or one ``.txt`` or ``.ann`` file (with its pair). The document id is
the file stem and the text is the ``.txt`` content (offsets count characters; a
UTF-8 byte-order mark is not part of the text); each non-blank line starts a
section. ``T`` lines are mentions (a discontinuous one, ``start end;start end``,
becomes one mention covering all fragments, counted as ``discontinuous``); ``R``
lines are relations between mentions (``Arg1`` is the head); ``N`` lines give a
mention its normalized ids (MeSH ids of CHEMICAL and DISEASE mentions as
``MESH:D008012``, see :func:`~.base.build_doc`; ids of other databases keep their
prefix). ``#`` notes are skipped; ``A``, ``M``, ``E`` and ``*`` lines are skipped and
counted as ``unsupported_annotation``.
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Set, Tuple

from spacy.util import registry

from .base import corpus_reader, decode_bytes, discontinuous_text, resolve_label
from .records import ConversionReport, CorpusError, PathLike, RawDocument, RawMention, RawRelation

#: Annotation kinds that are read past (counted as ``unsupported_annotation``).
UNSUPPORTED_KINDS = {"A": "attribute", "M": "modification", "E": "event", "*": "equivalence"}
#: Database prefixes of normalizations that are stored without the prefix.
BARE_ID_DATABASES = ("mesh",)


@dataclass
class _Reference:
    """A line (R or N) that names other annotations, resolved after the whole file."""

    ann_id: str
    label: str
    refs: Tuple[str, ...]
    line: int
    value: str = ""  # the normalized id of an N line


def parse_brat(
    path: PathLike,
    *,
    label_map: Optional[Dict[str, str]] = None,
    report: Optional[ConversionReport] = None,
) -> Iterator[RawDocument]:
    """Parse BRAT standoff files into raw documents.

    path (PathLike): A directory of ``.txt``/``.ann`` pairs, or one of the two files.
    label_map (Optional[Dict[str, str]]): Extra corpus type -> label mappings.
    report (Optional[ConversionReport]): Collects counts and warnings.
    YIELDS (RawDocument): One record per ``.txt`` file.
    """
    report = report if report is not None else ConversionReport()
    for txt_path, ann_path in brat_pairs(path):
        yield _read_document(txt_path, ann_path, label_map, report)


def brat_pairs(path: PathLike) -> List[Tuple[Path, Optional[Path]]]:
    """The (``.txt``, ``.ann``) pairs named by a directory or a file.

    path (PathLike): A directory, a ``.txt`` or a ``.ann`` file.
    RETURNS (List[Tuple[Path, Optional[Path]]]): Pairs in name order; the ``.ann``
        is None where it is missing.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError("file or directory not found", path=path)
    if path.is_dir():
        for ann in sorted(path.glob("*.ann")):
            if not ann.with_suffix(".txt").is_file():
                raise CorpusError(f"annotation file without its text file "
                                  f"{ann.with_suffix('.txt').name}", path=ann)
        txts = sorted(p for p in path.glob("*.txt") if p.is_file())
        if not txts:
            raise CorpusError("directory has no .txt files (expected BRAT .txt/.ann pairs)",
                              path=path)
        return [(txt, _existing(txt.with_suffix(".ann"))) for txt in txts]
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return [(path, _existing(path.with_suffix(".ann")))]
    if suffix == ".ann":
        txt = path.with_suffix(".txt")
        if not txt.is_file():
            raise CorpusError(f"annotation file without its text file {txt.name}", path=path)
        return [(txt, path)]
    raise CorpusError("expected a directory, a .txt or a .ann file for BRAT standoff",
                      path=path)


def _existing(path: Path) -> Optional[Path]:
    return path if path.is_file() else None


def _read_document(
    txt_path: Path,
    ann_path: Optional[Path],
    label_map: Optional[Dict[str, str]],
    report: ConversionReport,
) -> RawDocument:
    doc_id = txt_path.stem
    text = decode_bytes(txt_path.read_bytes(), txt_path)
    if not text.strip():
        raise CorpusError("the document text is empty", path=txt_path, doc_id=doc_id)
    starts = _line_starts(text)
    if ann_path is None:
        report.warn("missing_ann", f"no {txt_path.with_suffix('.ann').name} next to the text; "
                    "document kept without annotations", path=txt_path, doc_id=doc_id)
        return RawDocument(doc_id, text, txt_path, None, section_starts=starts)
    annotations = decode_bytes(ann_path.read_bytes(), ann_path)
    mentions, relations = _parse_ann(annotations, text, ann_path, doc_id, label_map, report)
    return RawDocument(doc_id, text, ann_path, None, mentions, relations,
                       section_starts=starts)


def _line_starts(text: str) -> List[int]:
    """Offsets where a non-blank line starts."""
    starts = [0]
    position = 0
    for line in text.split("\n"):
        if position and line.strip():
            starts.append(position)
        position += len(line) + 1
    return starts


def _parse_ann(
    annotations: str,
    text: str,
    path: Path,
    doc_id: str,
    label_map: Optional[Dict[str, str]],
    report: ConversionReport,
) -> Tuple[List[RawMention], List[RawRelation]]:
    mentions: Dict[str, RawMention] = {}
    ignored: Set[str] = set()  # T ids of types the user chose to skip
    unsupported: Set[str] = set()  # ids of A/M/E lines
    references: List[_Reference] = []
    seen: Set[str] = set()

    def error(message: str, line: int) -> CorpusError:
        return CorpusError(message, path=path, line=line, doc_id=doc_id)

    for number, raw_line in enumerate(annotations.split("\n"), start=1):
        line = raw_line.rstrip("\r")
        if not line.strip():
            continue
        ann_id, tab, rest = line.partition("\t")
        kind = ann_id[:1]
        if kind == "#":
            continue
        if not tab or not ann_id.strip():
            raise error(f"malformed line {line[:60]!r}: expected an id, a tab and the "
                        "annotation", number)
        if kind != "*":
            if ann_id in seen:
                raise error(f"the id {ann_id} is defined twice", number)
            seen.add(ann_id)
        if kind == "T":
            mention = _parse_text_bound(ann_id, rest, text, path, number, doc_id, label_map,
                                        report)
            if mention is None:
                ignored.add(ann_id)
            else:
                mentions[ann_id] = mention
        elif kind == "R":
            references.append(_parse_relation(ann_id, rest, number, error))
        elif kind == "N":
            references.append(_parse_normalization(ann_id, rest, number, error))
        elif kind in UNSUPPORTED_KINDS:
            if kind != "*":
                unsupported.add(ann_id)
            report.warn("unsupported_annotation",
                        f"{UNSUPPORTED_KINDS[kind]} {ann_id} is not read; skipped",
                        path=path, line=number, doc_id=doc_id)
        else:
            raise error(f"unknown annotation id {ann_id!r}: expected an id starting with T, R, "
                        "N, A, M, E, * or #", number)
    relations: List[RawRelation] = []
    for ref in references:
        what = ("relation " if ref.ann_id.startswith("R") else "normalization ") + ref.ann_id
        if any(r in unsupported for r in ref.refs):
            report.warn("unsupported_annotation",
                        f"{what} points to an annotation of a kind that is not read; skipped",
                        path=path, line=ref.line, doc_id=doc_id)
            continue
        unknown = [r for r in ref.refs if r not in mentions and r not in ignored]
        if unknown:
            raise error(f"{what} names {', '.join(unknown)}, which the file does not define "
                        "as a text-bound (T) annotation", ref.line)
        if any(r in ignored for r in ref.refs):
            if ref.ann_id.startswith("R"):
                report.ignored[f"relation:{ref.label}"] += 1
            continue
        if ref.ann_id.startswith("R"):
            relations.append(RawRelation(ref.label, ref.refs[0], ref.refs[1],
                                         between="mentions", line=ref.line))
        else:
            mention = mentions[ref.refs[0]]
            if ref.value not in mention.ids:
                mention.ids = mention.ids + (ref.value,)
    return list(mentions.values()), relations


def _parse_text_bound(
    ann_id: str,
    rest: str,
    text: str,
    path: Path,
    number: int,
    doc_id: str,
    label_map: Optional[Dict[str, str]],
    report: ConversionReport,
) -> Optional[RawMention]:
    """A ``T`` line as a mention; None for a type the user chose to skip."""
    cols = rest.split("\t", 1)
    head = cols[0].split(" ", 1)
    if len(cols) != 2 or len(head) != 2 or not head[0].strip():
        raise CorpusError(
            f"malformed text-bound annotation {ann_id}: expected "
            f"'{ann_id}<TAB>Type start end<TAB>text', got {len(cols) + 1} tab-separated columns",
            path=path, line=number, doc_id=doc_id)
    source_type, offsets = head[0].strip(), head[1]
    stated = cols[1]
    fragments: List[Tuple[int, int]] = []
    for fragment in offsets.split(";"):
        numbers = fragment.split()
        if len(numbers) != 2 or not all(n.isdigit() for n in numbers):
            raise CorpusError(
                f"malformed offsets {offsets!r} in {ann_id}: expected 'start end' pairs of "
                "integers separated by ';'", path=path, line=number, doc_id=doc_id)
        start, end = int(numbers[0]), int(numbers[1])
        if end <= start:
            raise CorpusError(f"fragment {start}-{end} of {ann_id} is empty or reversed",
                              path=path, line=number, doc_id=doc_id)
        fragments.append((start, end))
    label = resolve_label(source_type, label_map, report, path=path, line=number,
                          doc_id=doc_id)
    if label is None:
        return None
    start = min(s for s, _ in fragments)
    end = max(e for _, e in fragments)
    if len(fragments) > 1:
        report.warn("discontinuous",
                    f"{ann_id} {stated!r} has {len(fragments)} fragments; read as one mention "
                    "covering all of them", path=path, line=number, doc_id=doc_id)
        stated = discontinuous_text(text, fragments, stated, ann_id, path=path, line=number,
                                    doc_id=doc_id)
    return RawMention(start, end, stated, source_type, label, (), line=number, key=ann_id)


def _parse_relation(
    ann_id: str, rest: str, number: int, error: Callable[[str, int], CorpusError]
) -> _Reference:
    """An ``R`` line: ``Type Arg1:T1 Arg2:T2``; the head is ``Arg1`` (else the first)."""
    fields = rest.split("\t")[0].split()
    if len(fields) != 3:
        raise error(f"malformed relation {ann_id}: expected '{ann_id}<TAB>Type Arg1:T1 "
                    "Arg2:T2'", number)
    args: List[Tuple[str, str]] = []
    for field in fields[1:]:
        role, colon, ref = field.partition(":")
        if not colon or not role or not ref:
            raise error(f"malformed argument {field!r} in relation {ann_id}: expected "
                        "'Role:T1'", number)
        args.append((role, ref))
    if {role for role, _ in args} == {"Arg1", "Arg2"}:
        args.sort()
    return _Reference(ann_id, fields[0], (args[0][1], args[1][1]), number)


def _parse_normalization(
    ann_id: str, rest: str, number: int, error: Callable[[str, int], CorpusError]
) -> _Reference:
    """An ``N`` line: ``Reference T1 Db:ID``; MeSH ids lose their prefix."""
    fields = rest.split("\t")[0].split()
    if len(fields) != 3:
        raise error(f"malformed normalization {ann_id}: expected '{ann_id}<TAB>Reference T1 "
                    "Db:ID<TAB>text'", number)
    database, colon, identifier = fields[2].partition(":")
    if not colon or not database or not identifier:
        raise error(f"malformed normalization {ann_id}: {fields[2]!r} is not 'Db:ID'", number)
    value = identifier if database.lower() in BARE_ID_DATABASES else fields[2]
    return _Reference(ann_id, fields[0], (fields[1],), number, value)


create_brat_reader = registry.readers("spacy-biobert.BratCorpus.v1")(
    corpus_reader(parse_brat, name="create_brat_reader",
                  source="BRAT standoff files (a directory of ``.txt``/``.ann`` "
                         "pairs, or one of the files)"))
