"""PubTator files: BC5CDR (with CID relation rows) and NCBI Disease.

::

    PMID|t|Title text
    PMID|a|Abstract text
    PMID<TAB>start<TAB>end<TAB>mention<TAB>Type<TAB>ID(s)[<TAB>individual mentions]
    PMID<TAB>CID<TAB>chemical-ID<TAB>disease-ID
    <blank line>

Offsets index ``title + " " + abstract``. Several ids are joined by ``|`` (BC5CDR
composite mentions) or ``+`` (NCBI Disease); ``-1`` means no id. Relation rows
state entity pairs by id, so they become :class:`~spacy_biobert.relations.EntityRelation`.
"""
import re
from typing import Dict, Iterator, List, Optional

from spacy.util import registry

from .base import corpus_reader, read_text, resolve_label, split_ids
from .records import ConversionReport, CorpusError, PathLike, RawDocument, RawMention, RawRelation

SECTION_LINE = re.compile(r"^([^\t|]+)\|(\w)\|(.*)$")


class _Pending:
    def __init__(self, doc_id: str, line: int) -> None:
        self.doc_id = doc_id
        self.line = line
        self.title: Optional[str] = None
        self.abstract: Optional[str] = None
        self.mentions: List[RawMention] = []
        self.relations: List[RawRelation] = []


def parse_pubtator(
    path: PathLike,
    *,
    label_map: Optional[Dict[str, str]] = None,
    report: Optional[ConversionReport] = None,
) -> Iterator[RawDocument]:
    """Parse a PubTator file into raw documents.

    path (PathLike): The file.
    label_map (Optional[Dict[str, str]]): Extra corpus type -> label mappings.
    report (Optional[ConversionReport]): Collects counts and warnings.
    YIELDS (RawDocument): One record per document.
    """
    report = report if report is not None else ConversionReport()
    text = read_text(path)
    pending: Optional[_Pending] = None

    def finish(doc: _Pending) -> RawDocument:
        title = doc.title if doc.title is not None else ""
        if doc.title is None:
            raise CorpusError("document has no title line (PMID|t|...)", path=path,
                              line=doc.line, doc_id=doc.doc_id)
        full = title if doc.abstract is None else f"{title} {doc.abstract}"
        starts = [0] if doc.abstract is None else [0, len(title) + 1]
        return RawDocument(doc.doc_id, full, path, doc.line, doc.mentions, doc.relations,
                           section_starts=starts)

    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if pending is not None:
                yield finish(pending)
                pending = None
            continue
        section = SECTION_LINE.match(line)
        if section:
            doc_id, kind, body = section.groups()
            if kind not in ("t", "a"):
                raise CorpusError(
                    f"malformed line: unknown section '|{kind}|'; expected 'PMID|t|title' or "
                    "'PMID|a|abstract'", path=path, line=number, doc_id=doc_id)
            if pending is not None and pending.doc_id != doc_id:
                yield finish(pending)
                pending = None
            if pending is None:
                pending = _Pending(doc_id, number)
            if kind == "t":
                if pending.title is not None:
                    raise CorpusError("second title line for the same document without a "
                                      "blank line between", path=path, line=number,
                                      doc_id=doc_id)
                pending.title = body
            else:
                if pending.abstract is not None:
                    raise CorpusError("second abstract line for the same document",
                                      path=path, line=number, doc_id=doc_id)
                pending.abstract = body
            continue
        cols = line.split("\t")
        doc_id = cols[0]
        if pending is None or pending.doc_id != doc_id:
            where = f"inside document {pending.doc_id}" if pending else "before any title line"
            raise CorpusError(f"annotation row for document {doc_id} appears {where}",
                              path=path, line=number, doc_id=doc_id)
        if len(cols) == 4 and not cols[1].strip().isdigit():
            pending.relations.append(RawRelation(cols[1].strip(), cols[2].strip(),
                                                 cols[3].strip(), line=number))
            continue
        if len(cols) < 5:
            raise CorpusError(
                f"malformed line: expected a mention row "
                "(PMID, start, end, text, type[, ids]) or a relation row (PMID, label, id, id), "
                f"got {len(cols)} tab-separated columns",
                path=path, line=number, doc_id=doc_id)
        try:
            start, end = int(cols[1]), int(cols[2])
        except ValueError:
            raise CorpusError(f"malformed offsets {cols[1]!r}, {cols[2]!r}: expected integers",
                              path=path, line=number, doc_id=doc_id) from None
        source_type = cols[4].strip()
        label = resolve_label(source_type, label_map, report, path=path, line=number,
                              doc_id=doc_id)
        if label is None:
            continue
        ids = split_ids(cols[5]) if len(cols) > 5 else ()
        pending.mentions.append(
            RawMention(start, end, cols[3], source_type, label, ids, line=number))
    if pending is not None:
        yield finish(pending)


create_pubtator_reader = registry.readers("spacy-biobert.PubTatorCorpus.v1")(
    corpus_reader(parse_pubtator, name="create_pubtator_reader",
                  source="a PubTator file"))
