"""File sources (txt folder, JSONL, PubTator, BioC) and file sinks (JSONL, PubTator, BioC).

Sources stream: one file or line at a time (BioC XML document by document; BioC
JSON is one JSON value and is read whole). A document that cannot be read (bytes
that are not UTF-8, a malformed JSON line) becomes a :class:`Record` with a
``problem``, which the runner counts as skipped; the run goes on.

Sinks append one batch at a time with a single ``write`` followed by ``fsync``,
each document on its own line (PubTator: its own block). A run killed in the
middle of a write leaves at most one incomplete document at the end of the file:
when the sink is opened again it cuts the file back to the last complete document
and returns the ids it holds, which the runner skips. So a rerun neither repeats
nor loses a document.
"""
import json
import os
import re
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Set, Tuple
from xml.sax.saxutils import escape, quoteattr, unescape

from .records import AnnotateError, DocResult, ModelInfo, Record

# --- sources -------------------------------------------------------------------------


def _decode(data: bytes) -> Tuple[Optional[str], Optional[str]]:
    """(text, None) or (None, why it is not UTF-8)."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as err:
        return None, f"not UTF-8 (byte {err.start}: {data[err.start:err.start + 4]!r})"


class TxtFolderSource:
    """Every ``*.txt`` file under a folder (recursively); the id is the relative path
    without ``.txt``."""

    def __init__(self, path: Path) -> None:
        if not path.is_dir():
            raise AnnotateError(f"{path}: not a folder")
        self.path = path

    def _files(self) -> Iterator[Path]:
        return iter(sorted(self.path.rglob("*.txt")))

    def __len__(self) -> int:
        return sum(1 for _ in self._files())

    def __iter__(self) -> Iterator[Record]:
        for file in self._files():
            doc_id = file.relative_to(self.path).with_suffix("").as_posix()
            text, problem = _decode(file.read_bytes())
            yield Record(doc_id, text, str(file), problem)


class JsonlSource:
    """One JSON object per line with an id and a text field."""

    def __init__(self, path: Path, id_field: str = "id", text_field: str = "text") -> None:
        if not path.is_file():
            raise AnnotateError(f"{path}: file not found")
        self.path, self.id_field, self.text_field = path, id_field, text_field

    def __len__(self) -> int:
        with self.path.open("rb") as f:
            return sum(1 for line in f if line.strip())

    def __iter__(self) -> Iterator[Record]:
        with self.path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                if not raw.strip():
                    continue
                where = f"{self.path}:{number}"
                line, problem = _decode(raw)
                if line is None:
                    yield Record("", None, where, problem)
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as err:
                    yield Record("", None, where, f"malformed JSON ({err.msg})")
                    continue
                if not isinstance(obj, dict) or obj.get(self.id_field) is None:
                    yield Record("", None, where, f"no {self.id_field!r} field")
                    continue
                text = obj.get(self.text_field)
                yield Record(str(obj[self.id_field]),
                             text if text is None or isinstance(text, str) else str(text),
                             where)


PUBTATOR_SECTION = re.compile(r"^([^\t|]+)\|([ta])\|(.*)$")


class PubTatorSource:
    """Documents of a PubTator file: title + " " + abstract (the offsets' convention).

    Annotation rows are ignored: the pipeline predicts its own.
    """

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise AnnotateError(f"{path}: file not found")
        self.path = path

    def __len__(self) -> int:
        with self.path.open("rb") as f:
            return sum(1 for line in f if b"|t|" in line[:64])

    def __iter__(self) -> Iterator[Record]:
        doc_id: Optional[str] = None
        parts: Dict[str, str] = {}
        start = 0
        problem: Optional[str] = None

        def finish() -> Record:
            assert doc_id is not None
            title, abstract = parts.get("t"), parts.get("a")
            text = " ".join(p for p in (title, abstract) if p is not None)
            return Record(doc_id, text, f"{self.path}:{start}", problem)

        with self.path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                line, bad = _decode(raw)
                if line is None:
                    # Attribute undecodable bytes to the document being read.
                    problem = problem or f"line {number}: {bad}"
                    continue
                line = line.rstrip("\r\n")
                match = PUBTATOR_SECTION.match(line)
                if match:
                    key, kind, body = match.groups()
                    if doc_id is not None and key != doc_id:
                        yield finish()
                        parts, problem = {}, None
                    if doc_id != key:
                        doc_id, start = key, number
                    parts[kind] = body
                elif not line.strip() and doc_id is not None:
                    yield finish()
                    doc_id, parts, problem = None, {}, None
        if doc_id is not None:
            yield finish()


class BioCSource:
    """Documents of a BioC XML (streamed) or JSON collection; passages are placed at
    their offsets, gaps filled with spaces, as the corpus reader does."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise AnnotateError(f"{path}: file not found")
        self.path = path

    def _documents(self) -> Iterator[Any]:
        from ..corpora.base import CorpusError
        from ..corpora.bioc import bioc_format, load_collection

        with self.path.open("rb") as f:
            head = f.read(512).decode("utf-8", errors="replace")
        try:
            if bioc_format(self.path, head) == "json":
                yield from load_collection(self.path).documents
                return
            import bioc.biocxml

            with self.path.open("rb") as f, bioc.biocxml.iterparse(f) as reader:
                yield from reader
        except CorpusError as err:
            raise AnnotateError(str(err)) from None
        except SyntaxError as err:  # lxml's XMLSyntaxError
            raise AnnotateError(f"{self.path}:{getattr(err, 'lineno', '?')}: malformed BioC "
                                f"XML: {getattr(err, 'msg', None) or err}") from None

    def __len__(self) -> int:
        return sum(1 for _ in self._documents())

    def __iter__(self) -> Iterator[Record]:
        for number, document in enumerate(self._documents(), start=1):
            pieces: List[Tuple[int, str]] = []
            for passage in document.passages:
                if passage.text:
                    pieces.append((passage.offset, passage.text))
                else:
                    pieces.extend((s.offset, s.text) for s in passage.sentences if s.text)
            text = ""
            for offset, piece in sorted(pieces, key=lambda p: p[0]):
                text = text.ljust(offset) + piece if offset >= len(text) else text + " " + piece
            yield Record(str(document.id or ""), text,
                         f"{self.path}, document {number}",
                         None if document.id else "document has no id")


# --- sinks ---------------------------------------------------------------------------


class _AppendSink:
    """A file written by appending whole documents; recovered on reopen."""

    header = ""
    trailer = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.model = ModelInfo("", "")
        self._file: Optional[IO[bytes]] = None
        self._count = 0

    def open(self, model: ModelInfo) -> Set[str]:
        """Recover the file (cut an incomplete tail); RETURNS the ids it holds."""
        self.model = model
        self.path.parent.mkdir(parents=True, exist_ok=True)
        done: Set[str] = set()
        keep = 0
        if self.path.exists() and self.path.stat().st_size:
            done, keep = self._recover()
        self._file = self.path.open("r+b" if self.path.exists() else "wb")
        self._file.truncate(keep)
        self._file.seek(keep)
        if keep == 0:
            self._file.write(self.header.encode("utf8"))
        self._count = len(done)
        self._sync()
        return done

    def _recover(self) -> Tuple[Set[str], int]:
        """(ids of complete documents, byte offset just after the last of them).

        Only the end of the file may be incomplete (a write cut short, or the trailer
        of a finished run); anything else that is not a document is an error, so a
        file that annotate did not write is never cut.
        """
        done: Set[str] = set()
        keep, offset = 0, 0
        odd_line: Optional[int] = None
        with self.path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                offset += len(raw)
                doc_id = self._complete_id(raw) if raw.endswith(b"\n") else None
                if doc_id is not None:
                    if odd_line is not None:
                        break
                    done.add(doc_id)
                    keep = offset
                elif odd_line is None and not self._is_header(raw):
                    odd_line = number
                elif odd_line is not None:
                    break
            else:
                return done, keep
        raise AnnotateError(
            f"{self.path}:{odd_line}: not a document written by annotate; refusing to "
            "append to (or cut) a file in another format; choose a new --output")

    def _is_header(self, raw: bytes) -> bool:
        return False

    def _complete_id(self, raw: bytes) -> Optional[str]:
        raise NotImplementedError

    def _format(self, result: DocResult) -> str:
        raise NotImplementedError

    def reject(self, record: Record) -> Optional[str]:
        """Why this sink cannot store a document with this id, if it cannot."""
        if "\n" in record.id or "\r" in record.id:
            return "id contains a line break"
        return None

    def write(self, results: List[DocResult]) -> None:
        """Append one batch with one write, then fsync."""
        assert self._file is not None, "open() the sink first"
        chunks = []
        for result in results:
            chunks.append(self._format(result))
            self._count += 1
        self._file.write("".join(chunks).encode("utf8"))
        self._sync()

    def _sync(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            if self.trailer:
                self._file.write(self.trailer.encode("utf8"))
            self._sync()
            self._file.close()
            self._file = None


class JsonlSink(_AppendSink):
    """One JSON object per document: id, text, entities, relations, model, model_version."""

    def _complete_id(self, raw: bytes) -> Optional[str]:
        try:
            obj = json.loads(raw)
        except ValueError:
            return None
        return str(obj["id"]) if isinstance(obj, dict) and "id" in obj else None

    def _format(self, result: DocResult) -> str:
        row = {"id": result["id"], "text": result["text"], "entities": result["entities"],
               "relations": result["relations"], "model": self.model.name,
               "model_version": self.model.version}
        return json.dumps(row, ensure_ascii=False) + "\n"


def _one_line(text: str) -> str:
    # Same length, so character offsets stay valid.
    return re.sub(r"[\t\r\n]", " ", text)


class PubTatorSink(_AppendSink):
    """``id|t|text`` + one row per entity (+ entity-level relation rows), then a blank
    line. PubTator has no place for scores or the model name."""

    def _recover(self) -> Tuple[Set[str], int]:
        done: Set[str] = set()
        keep, offset = 0, 0
        current: Optional[str] = None
        with self.path.open("rb") as f:
            for raw in f:
                offset += len(raw)
                if not raw.endswith(b"\n"):
                    break
                line = raw.decode("utf8", errors="replace")
                if not line.strip():
                    if current is not None:
                        done.add(current)
                        keep = offset
                    current = None
                    continue
                match = PUBTATOR_SECTION.match(line.rstrip("\n"))
                if match and match.group(2) == "t":
                    current = match.group(1)
        return done, keep

    def reject(self, record: Record) -> Optional[str]:
        if re.search(r"[|\t\r\n]", record.id):
            return "id contains '|', a tab or a line break (not allowed in PubTator)"
        return None

    def _format(self, result: DocResult) -> str:
        doc_id = result["id"]
        lines = [f"{doc_id}|t|{_one_line(result['text'])}"]
        for ent in result["entities"]:
            ids = "|".join(ent["kb_ids"]) or (ent["kb_id"] or "-1")
            lines.append("\t".join([doc_id, str(ent["start"]), str(ent["end"]),
                                    _one_line(ent["text"]), ent["label"], ids]))
        for rel in result["relations"]:
            if rel["head_id"] and rel["tail_id"]:
                lines.append("\t".join([doc_id, rel["label"], rel["head_id"], rel["tail_id"]]))
        return "\n".join(lines) + "\n\n"


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_text(text: str) -> str:
    # One document per line (line breaks as character references); characters XML
    # cannot hold become spaces, keeping offsets.
    text = escape(_XML_BAD.sub(" ", text))
    return text.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")


def _xml_infons(infons: Dict[str, Any]) -> str:
    return "".join(f"<infon key={quoteattr(k)}>{_xml_text(str(v))}</infon>"
                   for k, v in infons.items() if v is not None)


def _link_infons(ent: Dict[str, Any]) -> Dict[str, Any]:
    """BioC infons of a linked entity: ``identifier`` (all ids, ``,``-joined as BioC CDR
    writes them), ``name`` (the concept's preferred name), ``link_score``; none if unlinked."""
    if not ent["kb_id"]:
        return {}
    infons = {"identifier": ",".join(ent["kb_ids"]) or ent["kb_id"],
              "name": ent.get("kb_name"), "link_score": ent.get("kb_score")}
    return {k: f"{v:.4f}" if isinstance(v, float) else str(v)
            for k, v in infons.items() if v is not None}


def _relation_infons(rel: Dict[str, Any]) -> Dict[str, Any]:
    infons: Dict[str, Any] = {"relation": rel["label"], "kind": rel["kind"],
                              "score": rel["score"]}
    if rel["kind"] == "entity":
        infons.update(head_id=rel["head_id"], tail_id=rel["tail_id"],
                      n_mentions=rel["n_mentions"])
        # Chemical/Disease infons: how BioC CDR states an entity pair (our reader's form).
        if rel["head_label"] == "CHEMICAL" and rel["tail_label"] == "DISEASE":
            infons.update(Chemical=rel["head_id"], Disease=rel["tail_id"])
    return infons


def _mention_refs(result: DocResult, rel: Dict[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    index = {(e["start"], e["end"]): f"T{i}" for i, e in enumerate(result["entities"])}
    return (index.get((rel["head_start"], rel["head_end"])),
            index.get((rel["tail_start"], rel["tail_end"])))


class BioCXmlSink(_AppendSink):
    """A BioC XML collection; one ``<document>`` per line, one passage at offset 0."""

    trailer = "</collection>\n"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.header = ("<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n"
                       "<!DOCTYPE collection SYSTEM 'BioC.dtd'>\n"
                       "<collection><source>spacy-biobert</source><date></date><key></key>\n")

    def _is_header(self, raw: bytes) -> bool:
        return not raw.startswith(b"<document>")

    def _complete_id(self, raw: bytes) -> Optional[str]:
        match = re.match(rb"<document><id>(.*?)</id>.*</document>\n$", raw)
        return unescape(match.group(1).decode("utf8"), {"&#10;": "\n", "&#13;": "\r",
                                                        "&#9;": "\t"}) if match else None

    def _format(self, result: DocResult) -> str:
        parts = [f"<document><id>{_xml_text(result['id'])}</id>",
                 _xml_infons({"model": self.model.name, "model_version": self.model.version}),
                 f"<passage><offset>0</offset><text>{_xml_text(result['text'])}</text>"]
        for i, ent in enumerate(result["entities"]):
            infons = {"type": ent["label"], **_link_infons(ent)}
            parts.append(f"<annotation id=\"T{i}\">{_xml_infons(infons)}"
                         f"<location offset=\"{ent['start']}\" "
                         f"length=\"{ent['end'] - ent['start']}\"/>"
                         f"<text>{_xml_text(ent['text'])}</text></annotation>")
        parts.append("</passage>")
        for i, rel in enumerate(result["relations"]):
            nodes = ""
            if rel["kind"] == "mention":
                head, tail = _mention_refs(result, rel)
                nodes = "".join(f"<node refid=\"{ref}\" role=\"{role}\"/>"
                                for ref, role in ((head, "head"), (tail, "tail")) if ref)
            parts.append(f"<relation id=\"R{i}\">{_xml_infons(_relation_infons(rel))}"
                         f"{nodes}</relation>")
        parts.append("</document>\n")
        return "".join(parts)


class BioCJsonSink(_AppendSink):
    """A BioC JSON collection; one document object per line."""

    trailer = "]}\n"
    header = '{"source": "spacy-biobert", "date": "", "key": "", "infons": {}, "documents": [\n'

    def _is_header(self, raw: bytes) -> bool:
        return raw.startswith(b'{"source"') or raw == self.trailer.encode("utf8")

    def _complete_id(self, raw: bytes) -> Optional[str]:
        try:
            obj = json.loads(raw.lstrip(b","))
        except ValueError:
            return None
        return str(obj["id"]) if isinstance(obj, dict) and "passages" in obj else None

    def _format(self, result: DocResult) -> str:
        annotations = [{
            "id": f"T{i}", "text": ent["text"],
            "infons": {"type": ent["label"], **_link_infons(ent)},
            "locations": [{"offset": ent["start"], "length": ent["end"] - ent["start"]}],
        } for i, ent in enumerate(result["entities"])]
        relations = []
        for i, rel in enumerate(result["relations"]):
            nodes = []
            if rel["kind"] == "mention":
                head, tail = _mention_refs(result, rel)
                nodes = [{"refid": ref, "role": role}
                         for ref, role in ((head, "head"), (tail, "tail")) if ref]
            infons = {k: str(v) for k, v in _relation_infons(rel).items() if v is not None}
            relations.append({"id": f"R{i}", "infons": infons, "nodes": nodes})
        doc = {"id": result["id"],
               "infons": {"model": self.model.name, "model_version": self.model.version},
               "passages": [{"offset": 0, "infons": {}, "text": result["text"],
                             "sentences": [], "annotations": annotations, "relations": []}],
               "annotations": [], "relations": relations}
        # The separator goes before every document but the first: no trailing comma.
        sep = "," if self._count else ""
        return sep + json.dumps(doc, ensure_ascii=False) + "\n"
