"""The results store: every command that produces numbers can save a Run here.

SQLite by default (a file in the user's data folder), PostgreSQL by URL, through SQLAlchemy Core so
both backends share one schema and one code path. Inputs and outputs are JSON documents; the columns
that reports filter on (command, provenance, time) are real columns.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from tcobench.errors import InputError, StoreError
from tcobench.records import Provenance, Run

ENV_VAR = "TCOBENCH_DB"
_SECRET = re.compile(r"(api[_-]?key|secret|password|passwd|authorization|bearer)", re.I)

metadata = sa.MetaData()
runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("command", sa.String(32), nullable=False, index=True),
    sa.Column("provenance", sa.String(16), nullable=False),
    sa.Column("label", sa.String(200), nullable=False, default=""),
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
        path.parent.mkdir(parents=True, exist_ok=True)
        return URL.create("sqlite", database=str(path))
    try:
        url = make_url(target)
    except ArgumentError as err:
        raise InputError(f"{{db}}/{ENV_VAR}: cannot read {repr(_hide(target))} as a database URL or path",
                         params=("db",)) from err
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(f"{{db}}/{ENV_VAR}: backend {repr(url.get_backend_name())} is not supported; expected a path "
                         "(SQLite) or postgresql://...", params=("db",))
    return url


def _hide(text: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", text)


def scrub(doc: Any) -> Any:
    """Drop values whose key looks like a secret, however deep; a store never holds an API key."""
    if isinstance(doc, Mapping):
        return {k: ("***" if _SECRET.search(str(k)) and v is not None else scrub(v)) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [scrub(v) for v in doc]
    return doc


class Store:
    """Runs saved in SQLite or PostgreSQL. ``Store.open(None)`` opens the default SQLite file."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        try:
            metadata.create_all(engine)
        except SQLAlchemyError as err:
            raise StoreError(f"cannot open results store {self.where}: {_first_line(err)}") from err

    @classmethod
    def open(cls, db: str | None = None) -> Store:
        url = resolve_url(db)
        return cls(sa.create_engine(url, future=True))

    @property
    def where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def save(self, run: Run) -> int:
        row = dict(created=run.created, command=run.command, provenance=str(run.provenance), label=run.label,
                   tool_version=run.tool_version, inputs=scrub(run.inputs), outputs=scrub(run.outputs))
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
            yield Run(id=r["id"], created=created, command=r["command"], provenance=Provenance(r["provenance"]),
                      label=r["label"], tool_version=r["tool_version"], inputs=r["inputs"], outputs=r["outputs"])


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", None) or err).strip().splitlines()[0]
