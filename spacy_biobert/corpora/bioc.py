"""BioC collections, as XML or JSON (BioC CDR, PubTator Central exports, ...).

::

    <collection>
      <document>
        <id>PMID</id>
        <passage>
          <offset>0</offset>
          <text>Title text</text>
          <annotation id="T0">
            <infon key="type">Chemical</infon>
            <infon key="identifier">D008750</infon>
            <location offset="0" length="11"/>
            <text>alpha-methyl</text>
          </annotation>
        </passage>
        <passage><offset>12</offset><text>Abstract text</text></passage>
        <relation id="R0">
          <infon key="relation">CID</infon>
          <infon key="Chemical">D008750</infon>
          <infon key="Disease">D003866</infon>
        </relation>
      </document>
    </collection>

BioC JSON holds the same objects (``documents``, ``passages``, ``annotations``,
``locations``, ``relations``, ``nodes``). The format is taken from the suffix
(``.xml``/``.json``), otherwise from the first character (``<`` or ``{``).

Offsets are document-level: each passage's text is placed at its ``offset`` and
gaps are filled with spaces; every passage starts a section. A passage without
text contributes its sentences' texts at their offsets. Annotations (of the
document, its passages or their sentences) take their label from the ``type``
infon and their ids from ``identifier`` (or ``MESH``, ``NCBI Gene``, ``db_id``);
an annotation with several locations becomes one mention covering all of them
(counted as ``discontinuous``). A relation whose two nodes point to annotations
is a mention pair (the ``Chemical``/``head``/``Arg1`` node is the head); a relation
whose infons name a ``Chemical`` and a ``Disease`` id is an entity pair, like a
PubTator CID row.
"""
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Tuple

import bioc
import bioc.biocjson
import bioc.biocxml
from spacy.util import registry

from .base import corpus_reader, discontinuous_text, read_text, resolve_label, split_ids
from .records import ConversionReport, CorpusError, PathLike, RawDocument, RawMention, RawRelation

#: Infons that hold an annotation's normalized id(s), in order of preference
#: (matched case-insensitively).
ID_INFONS: Tuple[str, ...] = ("identifier", "MESH", "MeSH", "Identifier", "NCBI Gene", "db_id")
#: Node roles that mark the head of a mention-level relation (case-insensitive).
HEAD_ROLES: Tuple[str, ...] = ("chemical", "head", "arg1")
#: Infons that hold a relation's label, in order of preference.
LABEL_INFONS: Tuple[str, ...] = ("relation", "type", "relation type")

XML_DECLARATION = re.compile(r"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")
UTF8_NAMES = ("utf-8", "utf8", "us-ascii", "ascii")


def parse_bioc(
    path: PathLike,
    *,
    label_map: Optional[Dict[str, str]] = None,
    report: Optional[ConversionReport] = None,
) -> Iterator[RawDocument]:
    """Parse a BioC XML or BioC JSON collection into raw documents.

    path (PathLike): The ``.xml`` or ``.json`` file.
    label_map (Optional[Dict[str, str]]): Extra corpus type -> label mappings.
    report (Optional[ConversionReport]): Collects counts and warnings.
    YIELDS (RawDocument): One record per BioC document.
    """
    report = report if report is not None else ConversionReport()
    collection = load_collection(path)
    if not collection.documents:
        raise CorpusError("the collection has no documents (expected a BioC collection of "
                          "documents)", path=path)
    for document in collection.documents:
        yield _convert_document(document, path, label_map, report)


def load_collection(path: PathLike) -> bioc.BioCCollection:
    """Read a BioC file as a collection, with located errors for malformed input.

    path (PathLike): The ``.xml`` or ``.json`` file.
    RETURNS (bioc.BioCCollection): The collection.
    """
    text = read_text(path)
    kind = bioc_format(path, text)
    if kind == "xml":
        _check_xml_encoding(text, path)
        try:
            return bioc.biocxml.loads(text)
        except SyntaxError as err:  # lxml's XMLSyntaxError
            raise CorpusError(f"malformed BioC XML: {getattr(err, 'msg', None) or err}",
                              path=path, line=getattr(err, "lineno", None)) from None
        except (KeyError, ValueError, TypeError, AttributeError) as err:
            raise CorpusError(f"not a valid BioC XML collection: {_describe(err)}",
                              path=path) from None
    try:
        return bioc.biocjson.loads(text)
    except json.JSONDecodeError as err:
        raise CorpusError(f"malformed BioC JSON: {err.msg} (column {err.colno})",
                          path=path, line=err.lineno) from None
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise CorpusError(f"not a valid BioC JSON collection: {_describe(err)}",
                          path=path) from None


def bioc_format(path: PathLike, text: str) -> str:
    """Tell BioC XML from BioC JSON: by suffix, else by the first character.

    path (PathLike): The file name.
    text (str): Its content.
    RETURNS (str): "xml" or "json".
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".xml":
        return "xml"
    if suffix == ".json":
        return "json"
    first = text.lstrip()[:1]
    if first == "<":
        return "xml"
    if first == "{":
        return "json"
    raise CorpusError(
        f"cannot tell whether this is BioC XML or BioC JSON: the file name does not end in "
        f".xml or .json and the content starts with {first!r} (expected '<' or '{{')",
        path=path,
    )


def _check_xml_encoding(text: str, path: PathLike) -> None:
    """The text is already UTF-8; a declaration naming another encoding would make
    the XML parser decode it a second time, wrongly."""
    match = XML_DECLARATION.match(text)
    if match and match.group(1).lower() not in UTF8_NAMES and not text.isascii():
        raise CorpusError(
            f"the XML declaration says encoding={match.group(1)!r} but the file is UTF-8; "
            "correct the declaration (or re-encode the file as UTF-8)",
            path=path, line=1,
        )


def _describe(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"missing field or attribute {err.args[0]!r}" if err.args else "missing field"
    return str(err) or type(err).__name__


def _infon(infons: Optional[Dict[str, object]], *keys: str) -> str:
    """The first non-empty value among ``keys`` (case-insensitive), or ""."""
    if not infons:
        return ""
    lowered = {str(k).lower(): v for k, v in infons.items()}
    for key in keys:
        value = lowered.get(key.lower())
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def _offset(value: object, what: str, path: PathLike, doc_id: str) -> int:
    """An offset or length as a non-negative int, or a located error."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    else:
        raise CorpusError(f"{what} must be a non-negative integer, got {value!r}",
                          path=path, doc_id=doc_id)
    if number < 0:
        raise CorpusError(f"{what} must be a non-negative integer, got {number}",
                          path=path, doc_id=doc_id)
    return number


def _document_text(
    document: bioc.BioCDocument, path: PathLike, doc_id: str
) -> Tuple[str, List[int]]:
    """Join the passages at their offsets; return the text and the section starts."""
    parts: List[str] = []
    length = 0
    starts: List[int] = []
    for number, passage in enumerate(document.passages, start=1):
        offset = _offset(passage.offset, f"passage {number} offset", path, doc_id)
        if offset < length:
            raise CorpusError(
                f"passage {number} starts at offset {offset}, inside or before the text "
                f"before it (which ends at {length}); passages must be in order and must "
                "not overlap", path=path, doc_id=doc_id)
        starts.append(offset)
        if passage.text:
            pieces = [(offset, str(passage.text))]
        else:
            pieces = [
                (_offset(s.offset, f"sentence offset in passage {number}", path, doc_id),
                 str(s.text))
                for s in passage.sentences if s.text
            ]
            starts.extend(start for start, _ in pieces)
        for start, piece in pieces:
            if start < length:
                raise CorpusError(
                    f"text at offset {start} in passage {number} overlaps or precedes the "
                    f"text before it (which ends at {length})", path=path, doc_id=doc_id)
            parts.append(" " * (start - length))
            parts.append(piece)
            length = start + len(piece)
    if not "".join(parts).strip():
        raise CorpusError("document has no text", path=path, doc_id=doc_id)
    return "".join(parts), sorted(set(starts))


def _nested(document: bioc.BioCDocument, kind: str) -> Iterator[Any]:
    """The ``annotations`` or ``relations`` of a document, its passages and sentences."""
    yield from getattr(document, kind)
    for passage in document.passages:
        yield from getattr(passage, kind)
        for sentence in passage.sentences:
            yield from getattr(sentence, kind)


def _convert_document(
    document: bioc.BioCDocument,
    path: PathLike,
    label_map: Optional[Dict[str, str]],
    report: ConversionReport,
) -> RawDocument:
    doc_id = str(document.id).strip() if document.id is not None else ""
    if not doc_id:
        raise CorpusError("document without an id", path=path)
    text, starts = _document_text(document, path, doc_id)
    mentions: List[RawMention] = []
    defined: Set[str] = set()
    skipped: Set[str] = set()  # annotations of ignored types, or without a location
    for ann in _nested(document, "annotations"):
        key = str(ann.id).strip() if ann.id is not None else ""
        what = f"annotation {key}" if key else "annotation"
        if key:
            if key in defined:
                raise CorpusError(f"two annotations have the id {key!r}", path=path,
                                  doc_id=doc_id)
            defined.add(key)
        source_type = _infon(ann.infons, "type")
        if not source_type:
            raise CorpusError(f"{what} has no 'type' infon", path=path, doc_id=doc_id)
        label = resolve_label(source_type, label_map, report, path=path, doc_id=doc_id)
        if label is None:
            skipped.add(key)
            continue
        if not ann.locations:
            report.warn("annotation_without_location",
                        f"{what} ({source_type}) has no location; skipped",
                        path=path, doc_id=doc_id)
            skipped.add(key)
            continue
        fragments: List[Tuple[int, int]] = []
        for loc in ann.locations:
            start = _offset(loc.offset, f"{what} location offset", path, doc_id)
            length = _offset(loc.length, f"{what} location length", path, doc_id)
            if length == 0:
                raise CorpusError(f"{what} has a location of length 0 at offset {start}",
                                  path=path, doc_id=doc_id)
            fragments.append((start, start + length))
        stated = str(ann.text) if ann.text is not None else ""
        if len(fragments) > 1:
            report.warn(
                "discontinuous",
                f"{what} {stated!r} has {len(fragments)} locations; read as one mention "
                "covering all of them", path=path, doc_id=doc_id)
            stated = discontinuous_text(text, fragments, stated, what, path=path, doc_id=doc_id)
        ids = split_ids(_infon(ann.infons, *ID_INFONS))
        mentions.append(RawMention(
            min(s for s, _ in fragments), max(e for _, e in fragments), stated, source_type,
            label, ids, key=key or None))
    relations = list(_convert_relations(_nested(document, "relations"), defined, skipped,
                                        path, doc_id, report))
    return RawDocument(doc_id, text, path, None, mentions, relations, section_starts=starts)


def _convert_relations(
    relations: Iterable[bioc.BioCRelation],
    defined: Set[str],
    skipped: Set[str],
    path: PathLike,
    doc_id: str,
    report: ConversionReport,
) -> Iterator[RawRelation]:
    for rel in relations:
        name = f"relation {rel.id}" if rel.id else "relation"
        label = _infon(rel.infons, *LABEL_INFONS)
        nodes = list(rel.nodes)
        refids = [str(node.refid).strip() if node.refid is not None else "" for node in nodes]
        chemical = _infon(rel.infons, "Chemical")
        disease = _infon(rel.infons, "Disease")
        if len(nodes) == 2 and (all(r in defined for r in refids) or not (chemical and disease)):
            unknown = [r or "(empty)" for r in refids if r not in defined]
            if unknown:
                raise CorpusError(
                    f"{name} points to annotation(s) {', '.join(unknown)} that the document "
                    "does not define", path=path, doc_id=doc_id)
            if not label:
                raise CorpusError(f"{name} has no 'relation' or 'type' infon", path=path,
                                  doc_id=doc_id)
            if any(r in skipped for r in refids):
                report.ignored[f"relation:{label}"] += 1
                continue
            roles = [str(node.role or "").lower() for node in nodes]
            head = next((i for i, role in enumerate(roles) if role in HEAD_ROLES), 0)
            yield RawRelation(label, refids[head], refids[1 - head], between="mentions")
        elif chemical and disease:
            if not label:
                raise CorpusError(f"{name} has no 'relation' or 'type' infon", path=path,
                                  doc_id=doc_id)
            yield RawRelation(label, chemical, disease, between="entities")
        else:
            report.warn(
                "unsupported_relation",
                f"{name} has {len(nodes)} node(s) and no Chemical/Disease infons; only "
                "relations between two annotations or two entity ids are read; skipped",
                path=path, doc_id=doc_id)


create_bioc_reader = registry.readers("spacy-biobert.BioCCorpus.v1")(
    corpus_reader(parse_bioc, name="create_bioc_reader",
                  source="a BioC XML or JSON file"))
