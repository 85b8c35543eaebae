"""SQL sources and sinks through SQLAlchemy (SQLite embedded, PostgreSQL as a server).

Identifiers that come from the user (``--table``, ``--id-column``, ``--text-column``)
are checked against the **reflected schema** of the database: a name that is not
exactly an existing table or column is an error, so ``abstracts; DROP TABLE x``
never reaches a statement. Statements are then built with SQLAlchemy constructs
(quoted identifiers, bound values), never by string formatting.

The sink writes three tables, created if missing::

    documents(doc_id PK, text, n_chars, n_words, n_entities, n_relations,
              model, model_version, annotated_at)
    entities(doc_id, start_char, end_char, text, label, kb_id, kb_ids, kb_name, kb_score,
             score, model, model_version)
    relations(doc_id, kind, label, score, head_id, tail_id, head_start, head_end,
              tail_start, tail_end, head_label, tail_label, n_mentions, model, model_version)

Each batch is one transaction, so a run killed at any moment leaves whole batches
only; the ids in ``documents`` are what a rerun skips.
"""
import logging
import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Set

from ..extras import install_hint, require
from .records import AnnotateError, DocResult, ModelInfo, Record
from .urls import safe_url

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine
else:
    sa = require("sqlalchemy", "sql", "annotate with a database")
    Engine = sa.engine.Engine

logger = logging.getLogger("spacy_biobert.io")

#: Table prefixes for the sink are new names, so they are checked by pattern.
PREFIX_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,40}$")
#: Rows fetched per query when reading a table (keyset pagination on the id column).
READ_CHUNK = 1000
#: Attempts for one batch's transaction when the connection drops (server restart,
#: a killed backend); the pool reconnects between attempts.
WRITE_ATTEMPTS = 3


def create_engine(url: str) -> Engine:
    """An engine for ``url``; ``postgresql://`` uses psycopg 3 when psycopg2 is absent.

    Connects once, so that a database that is down fails here with a clear message.
    """
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as err:
        raise AnnotateError(f"not a database URL: {url!r} ({err})") from None
    if parsed.drivername == "postgresql":
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: Dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = sa.create_engine(parsed, **kwargs)
        with engine.connect():
            pass
    except ModuleNotFoundError as err:
        extra = "postgres" if parsed.get_backend_name() == "postgresql" else "sql"
        raise AnnotateError(f"no database driver for {safe_url(url)}: {err}; "
                            f"{install_hint(extra)}") from None
    except sa.exc.SQLAlchemyError as err:
        raise AnnotateError(f"cannot connect to {safe_url(url)}: "
                            f"{_first_line(err)}") from None
    return engine


def _first_line(err: BaseException) -> str:
    text = str(getattr(err, "orig", None) or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def reflect_table(engine: Engine, name: str, columns: List[str]) -> sa.Table:
    """The existing table ``name`` with ``columns``, or an error listing what exists.

    Names must match the reflected schema exactly; nothing is quoted or guessed.
    """
    inspector = sa.inspect(engine)
    tables = inspector.get_table_names() + inspector.get_view_names()
    where = safe_url(engine.url.render_as_string(hide_password=False))
    if name not in tables:
        raise AnnotateError(f"table {name!r} does not exist in {where} "
                            f"(tables: {', '.join(sorted(tables)) or 'none'})")
    existing = [col["name"] for col in inspector.get_columns(name)]
    for column in columns:
        if column not in existing:
            raise AnnotateError(f"column {column!r} does not exist in table {name!r} of "
                                f"{where} (columns: {', '.join(existing)})")
    return sa.Table(name, sa.MetaData(), *(sa.Column(c) for c in existing))


class SqlSource:
    """Rows of a table: ``--table``, ``--id-column``, ``--text-column``.

    Reads in chunks ordered by the id column (keyset pagination): no transaction
    stays open between chunks, so the same SQLite file can be the sink, and a
    PostgreSQL connection that drops is replaced before the next chunk.
    """

    def __init__(self, url: str, table: Optional[str], id_column: str = "id",
                 text_column: str = "text", chunk_size: int = READ_CHUNK) -> None:
        if not table:
            raise AnnotateError(f"reading from {safe_url(url)} needs --table")
        self.url = url
        self.engine = create_engine(url)
        self.table = reflect_table(self.engine, table, [id_column, text_column])
        self.id_col = self.table.c[id_column]
        self.text_col = self.table.c[text_column]
        self.chunk_size = chunk_size

    def __len__(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(self.table))
                       .scalar_one())

    def __iter__(self) -> Iterator[Record]:
        name = self.table.name
        # Keyset pagination cannot reach NULL ids: report them first, as skips.
        with self.engine.connect() as conn:
            nulls = conn.execute(sa.select(sa.func.count()).select_from(self.table)
                                 .where(self.id_col.is_(None))).scalar_one()
        for _ in range(int(nulls)):
            yield Record("", None, f"table {name}", problem="null id")
        last: Any = None
        seen_at_last = 0  # rows with id == last already yielded (duplicate ids)
        chunk = self.chunk_size
        while True:
            query = (sa.select(self.id_col, self.text_col).where(self.id_col.is_not(None))
                     .order_by(self.id_col).limit(chunk))
            if last is not None:
                query = query.where(self.id_col >= last)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            fetched = len(rows)
            if last is not None:
                at_last = sum(1 for row in rows if row[0] == last)
                if at_last == fetched == chunk:
                    chunk *= 2  # more duplicates of one id than a chunk holds
                    continue
                rows = rows[min(seen_at_last, at_last):]
            if not rows:
                return
            for key, text in rows:
                yield _sql_record(key, text, name)
            new_last = rows[-1][0]
            tail_same = sum(1 for row in rows if row[0] == new_last)
            seen_at_last = tail_same + (seen_at_last if new_last == last else 0)
            last = new_last
            if fetched < chunk:
                return


def _sql_record(key: Any, text: Any, table: str) -> Record:
    doc_id = "" if key is None else str(key)
    where = f"table {table}, id {doc_id!r}"
    if key is None:
        return Record("", None, where, problem="null id")
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            return Record(doc_id, None, where,
                          problem=f"text is not UTF-8 (byte {err.start})")
    if text is not None and not isinstance(text, str):
        text = str(text)
    return Record(doc_id, text, where)


class SqlSink:
    """Write ``documents``, ``entities`` and ``relations`` tables (created if missing).

    url (str): SQLAlchemy URL (``sqlite:///out.db``, ``postgresql://u:p@host/db``).
    prefix (str): Prepended to the three table names (``pubmed_`` -> ``pubmed_documents``).
    """

    def __init__(self, url: str, prefix: str = "") -> None:
        if prefix and not PREFIX_PATTERN.match(prefix):
            raise AnnotateError(f"--table-prefix {prefix!r} is not a plain SQL name "
                                "(letters, digits, underscores)")
        self.url = url
        self.engine = create_engine(url)
        self.meta = sa.MetaData()
        text_type = sa.Text()
        self.documents = sa.Table(
            f"{prefix}documents", self.meta,
            sa.Column("doc_id", sa.String(255), primary_key=True),
            sa.Column("text", text_type),
            sa.Column("n_chars", sa.Integer), sa.Column("n_words", sa.Integer),
            sa.Column("n_entities", sa.Integer), sa.Column("n_relations", sa.Integer),
            sa.Column("model", sa.String(255)), sa.Column("model_version", sa.String(64)),
            sa.Column("annotated_at", sa.DateTime(timezone=True)),
        )
        self.entities = sa.Table(
            f"{prefix}entities", self.meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("doc_id", sa.String(255), nullable=False, index=True),
            sa.Column("start_char", sa.Integer), sa.Column("end_char", sa.Integer),
            sa.Column("text", text_type), sa.Column("label", sa.String(64), index=True),
            sa.Column("kb_id", sa.String(255)), sa.Column("kb_ids", sa.Text),
            sa.Column("kb_name", sa.Text), sa.Column("kb_score", sa.Float),
            sa.Column("score", sa.Float),
            sa.Column("model", sa.String(255)), sa.Column("model_version", sa.String(64)),
        )
        self.relations = sa.Table(
            f"{prefix}relations", self.meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("doc_id", sa.String(255), nullable=False, index=True),
            sa.Column("kind", sa.String(16)), sa.Column("label", sa.String(64)),
            sa.Column("score", sa.Float),
            sa.Column("head_id", sa.String(255)), sa.Column("tail_id", sa.String(255)),
            sa.Column("head_start", sa.Integer), sa.Column("head_end", sa.Integer),
            sa.Column("tail_start", sa.Integer), sa.Column("tail_end", sa.Integer),
            sa.Column("head_label", sa.String(64)), sa.Column("tail_label", sa.String(64)),
            sa.Column("n_mentions", sa.Integer),
            sa.Column("model", sa.String(255)), sa.Column("model_version", sa.String(64)),
        )
        self.model = ModelInfo("", "")

    def open(self, model: ModelInfo) -> Set[str]:
        """Create the tables if missing; RETURNS the ids already written."""
        self.model = model
        try:
            self.meta.create_all(self.engine, checkfirst=True)
            self._check_columns()
            with self.engine.connect() as conn:
                return {str(row[0]) for row in conn.execute(sa.select(self.documents.c.doc_id))}
        except sa.exc.SQLAlchemyError as err:
            raise AnnotateError(f"cannot prepare the output tables in "
                                f"{safe_url(self.url)}: {_first_line(err)}") from None

    def _check_columns(self) -> None:
        """An output table made by an older version (fewer columns) is named, not
        written into with a failing INSERT."""
        inspector = sa.inspect(self.engine)
        for table in (self.documents, self.entities, self.relations):
            have = {c["name"] for c in inspector.get_columns(table.name)}
            missing = [c.name for c in table.columns if c.name not in have]
            if missing:
                raise AnnotateError(
                    f"table {table.name!r} in {safe_url(self.url)} lacks the column(s) "
                    f"{', '.join(missing)} (made by an older version): add them, or write "
                    "new tables with --table-prefix")

    def reject(self, record: Record) -> Optional[str]:
        """Why a document id cannot be stored (the doc_id column holds 255 characters)."""
        return "id longer than 255 characters" if len(record.id) > 255 else None

    def write(self, results: List[DocResult]) -> None:
        """Insert one batch in one transaction (retried on a dropped connection)."""
        if not results:
            return
        docs, ents, rels = self._rows(results)
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    conn.execute(self.documents.insert(), docs)
                    if ents:
                        conn.execute(self.entities.insert(), ents)
                    if rels:
                        conn.execute(self.relations.insert(), rels)
                return
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as err:
                # The transaction was rolled back with the connection: nothing of this
                # batch is in the database, so trying again cannot duplicate rows.
                if attempt == WRITE_ATTEMPTS:
                    raise AnnotateError(
                        f"lost the connection to {safe_url(self.url)} while writing a batch "
                        f"({_first_line(err)}); the batch was rolled back, rerun the same "
                        "command to resume") from None
                logger.warning("database write failed (%s); retrying", _first_line(err))
                time.sleep(0.5 * attempt)
            except sa.exc.SQLAlchemyError as err:
                raise AnnotateError(f"writing to {safe_url(self.url)} failed: "
                                    f"{_first_line(err)}") from None

    def _rows(self, results: List[DocResult]) -> Any:
        now = datetime.now(timezone.utc)
        model = {"model": self.model.name, "model_version": self.model.version}
        docs, ents, rels = [], [], []
        for res in results:
            docs.append({
                "doc_id": res["id"], "text": res["text"], "n_chars": len(res["text"]),
                "n_words": res["n_words"], "n_entities": len(res["entities"]),
                "n_relations": len(res["relations"]), "annotated_at": now, **model,
            })
            for ent in res["entities"]:
                ents.append({
                    "doc_id": res["id"], "start_char": ent["start"], "end_char": ent["end"],
                    "text": ent["text"], "label": ent["label"], "kb_id": ent["kb_id"],
                    "kb_ids": "|".join(ent["kb_ids"]) or None, "kb_name": ent.get("kb_name"),
                    "kb_score": ent.get("kb_score"), "score": ent["score"],
                    **model,
                })
            for rel in res["relations"]:
                rels.append({"doc_id": res["id"], **rel, **model})
        return docs, ents, rels

    def close(self) -> None:
        self.engine.dispose()
