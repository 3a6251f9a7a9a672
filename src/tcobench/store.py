"""The results store: every command that produces numbers can save a Run here.

SQLite by default (a file in the user's data folder), PostgreSQL by URL, through SQLAlchemy Core so
both backends share one schema and one code path. Inputs and outputs are JSON documents; the columns
that reports filter on (command, provenance, time) are real columns.

Opening a store creates its schema, or brings an older one up to date, safely when several processes open
a new store at once (``CREATE ... IF NOT EXISTS``; on PostgreSQL under a transaction-scoped advisory lock,
since concurrent ``CREATE TABLE IF NOT EXISTS`` can still collide there in ``pg_type``). Nothing that looks
like a credential is written, and nothing is read back without the same redaction (``credentials.scrub``),
so a store written by an older version shows no key either.
"""

from __future__ import annotations

import datetime as dt
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from tcobench.credentials import redact_text, redact_url, scrub
from tcobench.errors import InputError, StoreError
from tcobench.records import Provenance, Run

ENV_VAR = "TCOBENCH_DB"
# the key of the PostgreSQL advisory lock that serialises schema changes (any constant; this one is a name's CRC)
SCHEMA_LOCK = zlib.crc32(b"tcobench.store.schema")

metadata = sa.MetaData()
runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("command", sa.String(32), nullable=False, index=True),
    sa.Column("provenance", sa.String(16), nullable=False),
    sa.Column("label", sa.Text, nullable=False, default=""),  # VARCHAR(200) before; migrated on open
    sa.Column("tool_version", sa.String(32), nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("outputs", sa.JSON, nullable=False),
)


def default_location() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tcobench" / "runs.sqlite"


def resolve_url(db: str | None = None) -> URL:
    """``db`` wins, then ``TCOBENCH_DB``, then the default SQLite file. A plain path means SQLite."""
    target = db or os.environ.get(ENV_VAR) or str(default_location())
    if "://" not in target:
        path = Path(target).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"cannot open results store {path} (chosen by {{db}} or {ENV_VAR}): cannot make its "
                             f"folder: {err.strerror or err}", params=("db",)) from err
        return URL.create("sqlite", database=str(path))
    try:
        url = make_url(target)
    except ArgumentError as err:
        raise InputError(f"{{db}}/{ENV_VAR}: cannot read {repr(redact_url(target))} as a database URL or path",
                         params=("db",)) from err
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(f"{{db}}/{ENV_VAR}: backend {repr(url.get_backend_name())} is not supported; expected a path "
                         "(SQLite) or postgresql://...", params=("db",))
    return url


class Store:
    """Runs saved in SQLite or PostgreSQL. ``Store.open(None)`` opens the default SQLite file."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            ensure_schema(engine)
        except SQLAlchemyError as err:
            raise StoreError(f"cannot open results store {self.where} (chosen by {{db}} or {ENV_VAR}): "
                             f"{_first_line(err)}", params=("db",)) from err

    @classmethod
    def open(cls, db: str | None = None) -> Store:
        url = resolve_url(db)
        return cls(sa.create_engine(url, future=True))

    @property
    def where(self) -> str:
        """The store's URL with its password and any secret-looking query value hidden."""
        return redact_url(self.engine.url.render_as_string(hide_password=True))

    def save(self, run: Run) -> int:
        row = dict(created=run.created, command=run.command, provenance=str(run.provenance),
                   label=redact_text(run.label), tool_version=run.tool_version, inputs=scrub(run.inputs),
                   outputs=scrub(run.outputs))
        try:
            with self.engine.begin() as conn:
                key = conn.execute(runs.insert().values(**row)).inserted_primary_key
                assert key is not None  # an INSERT into a table with an integer primary key
                return int(key[0])
        except SQLAlchemyError as err:
            raise StoreError(f"cannot save run to {self.where}: {_first_line(err)}") from err

    def list(self, command: str | None = None, limit: int | None = None) -> list[Run]:
        q = sa.select(runs).order_by(runs.c.id.desc())
        if command:
            q = q.where(runs.c.command == command)
        if limit:
            q = q.limit(limit)
        return list(self._query(q))

    def get(self, run_id: int) -> Run:
        found = list(self._query(sa.select(runs).where(runs.c.id == run_id)))
        if not found:
            latest = self.list(limit=1)
            hint = f"; the latest run is {latest[0].id}" if latest else "; the store is empty"
            raise InputError(f"no run with id {run_id} in {self.where}{hint}")
        return found[0]

    def _query(self, q: sa.Select[Any]) -> Iterator[Run]:
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(q).mappings().all()
        except SQLAlchemyError as err:
            raise StoreError(f"cannot read {self.where}: {_first_line(err)}") from err
        for r in rows:
            created = r["created"]
            if created.tzinfo is None:  # SQLite drops the zone; everything is stored in UTC
                created = created.replace(tzinfo=dt.UTC)
            # redacted on the way out too: a run saved by an older version may hold a key in its URL
            yield Run(id=r["id"], created=created, command=r["command"], provenance=Provenance(r["provenance"]),
                      label=redact_text(r["label"]), tool_version=r["tool_version"], inputs=scrub(r["inputs"]),
                      outputs=scrub(r["outputs"]))


def ensure_schema(engine: Engine) -> None:
    """Create the tables and indexes that are missing and migrate older ones; idempotent, and safe when
    several processes open a new store at the same moment. A store that is up to date costs one look at
    its catalog and takes no lock."""
    with engine.connect() as conn:
        if _up_to_date(conn):
            return
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # one process at a time from here; the others wait, then see it done
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SCHEMA_LOCK)))
        for table in metadata.sorted_tables:
            conn.execute(CreateTable(table, if_not_exists=True))
            for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
                conn.execute(CreateIndex(index, if_not_exists=True))
        _migrate(conn)


def _up_to_date(conn: Connection) -> bool:
    insp = sa.inspect(conn)
    if not insp.has_table(runs.name):
        return False
    indexes = {ix["name"] for ix in insp.get_indexes(runs.name)}
    return {str(ix.name) for ix in runs.indexes} <= indexes and not _label_is_bounded(conn)


def _label_is_bounded(conn: Connection) -> bool:
    """Whether ``runs.label`` still has the VARCHAR(200) of stores made before it became TEXT. SQLite ignores a
    declared length, so only PostgreSQL needs the change."""
    if conn.dialect.name != "postgresql":
        return False
    label = next(c for c in sa.inspect(conn).get_columns(runs.name) if c["name"] == "label")
    return getattr(label["type"], "length", None) is not None


def _migrate(conn: Connection) -> None:
    """Bring an older schema up to date (inside ``ensure_schema``'s transaction and lock)."""
    if _label_is_bounded(conn):
        conn.execute(sa.text("ALTER TABLE runs ALTER COLUMN label TYPE TEXT"))


def _first_line(err: Exception) -> str:
    return redact_text(str(getattr(err, "orig", None) or err).strip().splitlines()[0])
