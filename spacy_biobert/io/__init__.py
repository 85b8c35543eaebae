"""Sources and sinks for ``python -m spacy_biobert annotate``.

| kind     | source (``--input``)                       | sink (``--output``)                |
|----------|--------------------------------------------|------------------------------------|
| txt      | a folder of ``.txt`` files                  | –                                  |
| jsonl    | ``.jsonl``: ``{"id": ..., "text": ...}``   | ``.jsonl``: one document per line  |
| pubtator | ``.pubtator`` / ``.txt`` file               | same                               |
| bioc     | ``.xml`` / ``.json`` BioC collection        | same                               |
| sql      | SQLAlchemy URL + ``--table`` and columns   | URL: documents/entities/relations  |

A source yields :class:`Record` objects; a sink has ``open(model) -> ids already
written``, ``write(batch)`` (atomic per batch), ``reject(record)`` and ``close()``.
"""
from pathlib import Path
from typing import Any, Iterator, List, Optional, Protocol, Set

from .records import AnnotateError, DocResult, ModelInfo, Record, doc_to_result
from .urls import is_sql_url

SOURCE_FORMATS = ("txt", "jsonl", "pubtator", "bioc", "sql")
SINK_FORMATS = ("jsonl", "pubtator", "bioc", "sql")


class Source(Protocol):
    def __iter__(self) -> Iterator[Record]: ...

    def __len__(self) -> int: ...


class Sink(Protocol):
    def open(self, model: ModelInfo) -> Set[str]: ...

    def write(self, results: List[DocResult]) -> None: ...

    def reject(self, record: Record) -> Optional[str]: ...

    def close(self) -> None: ...


def _file_format(path: Path, for_output: bool) -> str:
    if path.is_dir() and not for_output:
        return "txt"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".xml", ".json"):
        return "bioc"
    if suffix in (".pubtator", ".txt", ".tsv"):
        return "pubtator"
    raise AnnotateError(f"cannot tell the format of {path} from its name; pass "
                        f"--{'output' if for_output else 'input'}-format "
                        f"({', '.join(SINK_FORMATS if for_output else SOURCE_FORMATS)})")


def open_source(spec: str, fmt: Optional[str] = None, *, table: Optional[str] = None,
                id_column: str = "id", text_column: str = "text") -> Any:
    """The source for an ``--input`` value (a path or a database URL).

    spec (str): Path or SQLAlchemy URL.
    fmt (Optional[str]): One of SOURCE_FORMATS; guessed from ``spec`` when None.
    table, id_column, text_column: SQL sources only (checked against the schema);
        ``id_column``/``text_column`` also name the JSONL fields.
    RETURNS (Source): An iterable of records.
    """
    from .files import BioCSource, JsonlSource, PubTatorSource, TxtFolderSource

    if fmt is None:
        fmt = "sql" if is_sql_url(spec) else _file_format(Path(spec), for_output=False)
    fmt = fmt.lower()
    if fmt == "sql":
        from .sql import SqlSource

        return SqlSource(spec, table, id_column=id_column, text_column=text_column)
    path = Path(spec)
    if not path.exists():
        raise AnnotateError(f"{path}: no such file or folder")
    if fmt == "txt":
        return TxtFolderSource(path)
    if fmt == "jsonl":
        return JsonlSource(path, id_field=id_column, text_field=text_column)
    if fmt == "pubtator":
        return PubTatorSource(path)
    if fmt == "bioc":
        return BioCSource(path)
    raise AnnotateError(f"unknown input format {fmt!r}; choose one of: "
                        f"{', '.join(SOURCE_FORMATS)}")


def open_sink(spec: str, fmt: Optional[str] = None, *, table_prefix: str = "") -> Any:
    """The sink for an ``--output`` value (a path or a database URL).

    spec (str): Path or SQLAlchemy URL (tables are created if missing).
    fmt (Optional[str]): One of SINK_FORMATS; guessed from ``spec`` when None.
    table_prefix (str): SQL only: prefix of the three table names.
    RETURNS (Sink): The sink (not opened yet).
    """
    from .files import BioCJsonSink, BioCXmlSink, JsonlSink, PubTatorSink

    if fmt is None:
        fmt = "sql" if is_sql_url(spec) else _file_format(Path(spec), for_output=True)
    fmt = fmt.lower()
    if fmt == "sql":
        from .sql import SqlSink

        return SqlSink(spec, prefix=table_prefix)
    path = Path(spec)
    if path.is_dir():
        raise AnnotateError(f"--output {path} is a folder; name a file")
    if fmt == "jsonl":
        return JsonlSink(path)
    if fmt == "pubtator":
        return PubTatorSink(path)
    if fmt == "bioc":
        return BioCJsonSink(path) if path.suffix.lower() == ".json" else BioCXmlSink(path)
    raise AnnotateError(f"unknown output format {fmt!r}; choose one of: "
                        f"{', '.join(SINK_FORMATS)}")


__all__ = ["AnnotateError", "DocResult", "ModelInfo", "Record", "Sink", "Source",
           "doc_to_result", "open_sink", "open_source"]
