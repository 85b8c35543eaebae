"""annotate at scale: kill -9 and resume, PostgreSQL, worker processes, Ray.

PostgreSQL tests use the server named by ``SPACY_BIOBERT_PG_URL`` (``.ci/postgres.sh``
starts one and prints it). Without it they are skipped locally, and fail under CI.
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span

from spacy_biobert.annotate import annotate
from spacy_biobert.io import AnnotateError, open_sink, open_source
from spacy_biobert.tokenizer import biomedical_tokenizer

TEXTS = ["Lithium and aspirin were given .", "BRCA1 is mutated in tumours .",
         "Rats given cocaine died .", "The p53 protein binds DNA ."]


@pytest.fixture(scope="module")
def model_dir(trained_nlp: Language, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("annotate-model") / "model"
    trained_nlp.to_disk(path)
    return path


@pytest.fixture
def pg_url() -> str:
    url = os.environ.get("SPACY_BIOBERT_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide PostgreSQL: SPACY_BIOBERT_PG_URL is not set "
                        "(eval \"$(bash .ci/postgres.sh)\")")
        pytest.skip("SPACY_BIOBERT_PG_URL not set (eval \"$(bash .ci/postgres.sh)\")")
    pytest.importorskip("psycopg")
    return url


def _pg_connect(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True)


def _write_jsonl(path: Path, n: int) -> List[str]:
    ids = [f"doc{i:05d}" for i in range(n)]
    path.write_text("".join(json.dumps({"id": i, "text": TEXTS[k % len(TEXTS)]}) + "\n"
                            for k, i in enumerate(ids)))
    return ids


def _sqlite_ids(url: str, prefix: str) -> List[str]:
    with sqlite3.connect(url[len("sqlite:///"):]) as conn:
        try:
            return [r[0] for r in conn.execute(f"SELECT doc_id FROM {prefix}documents")]
        except sqlite3.OperationalError:  # not created yet
            return []


def _pg_ids(url: str, prefix: str) -> List[str]:
    with _pg_connect(url) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (f"{prefix}documents",)).fetchone()
        if not exists or exists[0] is None:
            return []
        return [r[0] for r in conn.execute(f"SELECT doc_id FROM {prefix}documents")]


def _jsonl_ids(path: Path) -> List[str]:
    if not path.exists():
        return []
    ids = []
    for line in path.read_bytes().splitlines(keepends=True):
        if line.endswith(b"\n"):
            ids.append(json.loads(line)["id"])
    return ids


def _entity_rows_per_doc(url: str, prefix: str, pg: bool) -> Dict[str, int]:
    query = (f"SELECT d.doc_id, d.n_entities, (SELECT count(*) FROM {prefix}entities e "
             f"WHERE e.doc_id = d.doc_id) FROM {prefix}documents d")
    if pg:
        with _pg_connect(url) as conn:
            rows = conn.execute(query).fetchall()
    else:
        with sqlite3.connect(url[len("sqlite:///"):]) as conn:
            rows = conn.execute(query).fetchall()
    for doc_id, stated, stored in rows:
        assert stated == stored, f"{doc_id}: {stored} entity rows, documents says {stated}"
    return {r[0]: r[1] for r in rows}


def _cli(model: Path, src: Path, out: str, *extra: str) -> List[str]:
    return [sys.executable, "-m", "spacy_biobert", "annotate", str(model), "--input", str(src),
            "--output", out, "--batch-size", "4", *extra]


@pytest.mark.parametrize("sink", ["jsonl", "sqlite", "postgres"])
def test_kill_9_mid_run_then_rerun_gives_every_row_once(
        tmp_path: Path, model_dir: Path, request: pytest.FixtureRequest, sink: str) -> None:
    src = tmp_path / "in.jsonl"
    ids = _write_jsonl(src, 500)
    prefix = f"k{uuid.uuid4().hex[:8]}_"
    count: Callable[[], List[str]]
    if sink == "jsonl":
        out = str(tmp_path / "out.jsonl")
        count = lambda: _jsonl_ids(Path(out))  # noqa: E731
    elif sink == "sqlite":
        out = f"sqlite:///{tmp_path / 'out.db'}"
        count = lambda: _sqlite_ids(out, prefix)  # noqa: E731
    else:
        out = request.getfixturevalue("pg_url")
        count = lambda: _pg_ids(out, prefix)  # noqa: E731
    extra = ("--table-prefix", prefix) if sink != "jsonl" else ()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    # cwd outside the source tree: the subprocess imports the installed package.
    proc = subprocess.Popen(_cli(model_dir, src, out, *extra), env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 180
    while time.time() < deadline and proc.poll() is None and len(count()) < 20:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed: " + \
        proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = count()
    assert 20 <= len(partial) < len(ids), "killed mid-run"
    if sink != "jsonl":  # one transaction per batch of 4
        assert len(partial) % 4 == 0, "whole batches only"

    rerun = subprocess.run(_cli(model_dir, src, out, *extra, "--summary",
                                str(tmp_path / "summary.json")),
                           env=env, cwd=tmp_path, capture_output=True, text=True,
                           timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["already_done"] == len(partial)
    assert summary["docs"] == len(ids) - len(partial)
    final = count()
    assert sorted(final) == ids, "no duplicate and no missing document"
    if sink != "jsonl":
        per_doc = _entity_rows_per_doc(out, prefix, pg=sink == "postgres")
        # Every document of the same text has the same number of entities, before and
        # after the kill.
        by_text: Dict[str, set] = {}
        for k, doc_id in enumerate(ids):
            by_text.setdefault(TEXTS[k % len(TEXTS)], set()).add(per_doc[doc_id])
        assert all(len(v) == 1 for v in by_text.values()), by_text
        assert sum(per_doc.values()) > 0
    else:
        rows = [json.loads(line) for line in Path(out).read_text().splitlines()]
        assert all(r["model"] == "en_pipeline" for r in rows)


def test_postgres_table_in_postgres_tables_out(pg_url: str, trained_nlp: Language) -> None:
    prefix = f"p{uuid.uuid4().hex[:8]}_"
    table = f"{prefix}abstracts"
    with _pg_connect(pg_url) as conn:
        conn.execute(f"CREATE TABLE {table} (pmid BIGINT, body TEXT)")
        conn.execute(f"CREATE TABLE {prefix}x (y INT)")
        rows = [(k, TEXTS[k % 4]) for k in range(10)] + [(3, "dup"), (20, None), (21, "")]
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", rows)
    source = open_source(pg_url, table=table, id_column="pmid", text_column="body")
    summary = annotate(trained_nlp, source, open_sink(pg_url, table_prefix=prefix),
                       batch_size=3)
    assert summary.docs == 10
    assert summary.skipped == {"duplicate id": 1, "empty or null text": 2}
    assert sorted(_pg_ids(pg_url, prefix), key=int) == [str(k) for k in range(10)]
    expected = sum(len(trained_nlp(TEXTS[k % 4]).ents) for k in range(10))
    assert sum(_entity_rows_per_doc(pg_url, prefix, pg=True).values()) == expected
    # Names are checked against the reflected schema: injection never reaches SQL.
    for bad in (f"{table}; DROP TABLE {prefix}x", f'{table}" ; DROP TABLE {prefix}x; --'):
        with pytest.raises(AnnotateError, match="does not exist"):
            open_source(pg_url, table=bad, id_column="pmid", text_column="body")
    with pytest.raises(AnnotateError, match="column 'text' does not exist"):
        open_source(pg_url, table=table, id_column="pmid")
    with _pg_connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (f"{prefix}x",)).fetchone()[0]


_KILL_AFTER: Dict[str, object] = {}


@Language.component("test_annotate_pg_killer")
def _pg_killer(doc: Doc) -> Doc:
    """Ends every other connection to the database once, after a few documents: the
    server side of a database that goes away mid-run."""
    _KILL_AFTER["seen"] = int(_KILL_AFTER.get("seen", 0)) + 1  # type: ignore[call-overload]
    if _KILL_AFTER["seen"] == _KILL_AFTER["at"]:
        with _pg_connect(str(_KILL_AFTER["url"])) as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
            _KILL_AFTER["killed"] = killed[0] if killed else 0
    doc.ents = [Span(doc, 0, 1, label="CHEMICAL")]
    return doc


def test_postgres_connection_lost_mid_run(pg_url: str, tmp_path: Path) -> None:
    """The sink's connection is killed by the server mid-run: nothing is lost or doubled."""
    src = tmp_path / "in.jsonl"
    ids = _write_jsonl(src, 40)
    prefix = f"g{uuid.uuid4().hex[:8]}_"
    nlp = spacy.blank("en")
    nlp.tokenizer = biomedical_tokenizer(nlp)
    nlp.add_pipe("test_annotate_pg_killer")
    _KILL_AFTER.update(seen=0, at=17, url=pg_url)
    summary = annotate(nlp, open_source(str(src)), open_sink(pg_url, table_prefix=prefix),
                       batch_size=4)
    assert _KILL_AFTER["killed"] >= 1, "the sink's connection was ended"
    assert summary.docs == 40
    assert sorted(_pg_ids(pg_url, prefix)) == ids
    assert set(_entity_rows_per_doc(pg_url, prefix, pg=True).values()) == {1}


def _entities_by_id(path: Path) -> Dict[str, List[Tuple[int, int, str]]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {r["id"]: [(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in rows}


def test_two_worker_processes_match_one(tmp_path: Path, model_dir: Path) -> None:
    src = tmp_path / "in.jsonl"
    ids = _write_jsonl(src, 24)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    annotate(str(model_dir), open_source(str(src)), open_sink(str(one)), batch_size=4)
    summary = annotate(str(model_dir), open_source(str(src)), open_sink(str(two)),
                       batch_size=4, n_process=2)
    assert summary.docs == 24
    assert sorted(_entities_by_id(two)) == ids
    assert _entities_by_id(two) == _entities_by_id(one)


def test_ray_engine_matches_local(tmp_path: Path, model_dir: Path) -> None:
    pytest.importorskip("ray")
    src = tmp_path / "in.jsonl"
    ids = _write_jsonl(src, 30)
    local, db = tmp_path / "local.jsonl", tmp_path / "ray.db"
    annotate(str(model_dir), open_source(str(src)), open_sink(str(local)), batch_size=4)
    # The first 10 are already in the sink: the Ray run resumes like the local one.
    first = tmp_path / "first.jsonl"
    first.write_text("".join(src.read_text().splitlines(keepends=True)[:10]))
    annotate(str(model_dir), open_source(str(first)), open_sink(f"sqlite:///{db}"))
    summary = annotate(str(model_dir), open_source(str(src)), open_sink(f"sqlite:///{db}"),
                       batch_size=4, n_process=2, engine="ray")
    assert (summary.already_done, summary.docs) == (10, 20)
    with sqlite3.connect(db) as conn:
        got: Dict[str, List[Tuple[int, int, str]]] = {i: [] for i in ids}
        for doc_id, start, end, label in conn.execute(
                "SELECT doc_id, start_char, end_char, label FROM entities "
                "ORDER BY doc_id, start_char"):
            got[doc_id].append((start, end, label))
        assert sorted(r[0] for r in conn.execute("SELECT doc_id FROM documents")) == ids
    assert got == _entities_by_id(local)


@Language.component("test_annotate_pg_closer")
def _pg_closer(doc: Doc) -> Doc:
    """After a few documents, the database refuses connections and drops the open
    ones: a database that goes away mid-run (until the test lets it back)."""
    _KILL_AFTER["seen"] = int(_KILL_AFTER.get("seen", 0)) + 1  # type: ignore[call-overload]
    if _KILL_AFTER["seen"] == _KILL_AFTER["at"]:
        name = _KILL_AFTER["db"]
        with _pg_connect(str(_KILL_AFTER["admin"])) as conn:
            conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = %s", (name,))
    doc.ents = [Span(doc, 0, 1, label="CHEMICAL")]
    return doc


def test_postgres_gone_mid_run_is_an_error_then_rerun_resumes(pg_url: str,
                                                              tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    name = f"biobert_gone_{uuid.uuid4().hex[:8]}"
    admin = make_url(pg_url).set(database="postgres").render_as_string(hide_password=False)
    with _pg_connect(admin) as conn:
        try:
            conn.execute(f"CREATE DATABASE {name}")
        except Exception as err:  # noqa: BLE001
            pytest.skip(f"cannot create a scratch database: {err}")
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        src = tmp_path / "in.jsonl"
        ids = _write_jsonl(src, 40)
        nlp = spacy.blank("en")
        nlp.tokenizer = biomedical_tokenizer(nlp)
        nlp.add_pipe("test_annotate_pg_closer")
        _KILL_AFTER.update(seen=0, at=17, db=name, admin=admin)
        with pytest.raises(AnnotateError, match="rerun the same command to resume"):
            annotate(nlp, open_source(str(src)), open_sink(url), batch_size=4)
        with _pg_connect(admin) as conn:
            conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        written = _pg_ids(url, "")
        assert written == ids[:16], "the batches before the outage, whole, and no more"
        _KILL_AFTER.update(seen=0, at=-1)
        summary = annotate(nlp, open_source(str(src)), open_sink(url), batch_size=4)
        assert (summary.already_done, summary.docs) == (16, 24)
        assert sorted(_pg_ids(url, "")) == ids
        assert set(_entity_rows_per_doc(url, "", pg=True).values()) == {1}
    finally:
        with _pg_connect(admin) as conn:
            conn.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
