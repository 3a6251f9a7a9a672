"""The results store against real SQLite and a real PostgreSQL server."""

import datetime as dt
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tcobench.errors import InputError, StoreError
from tcobench.records import Provenance, Run
from tcobench.store import Store, default_location, resolve_url


def sample(i: int = 0) -> Run:
    return Run(command="predict", provenance=Provenance.PREDICTED, inputs={"model": "llama-2-7b", "batch": i, "api_key": "sk-SECRET"},
               outputs={"tpot_s": 0.01 * (i + 1), "nested": {"Authorization": "Bearer sk-SECRET"}}, tool_version="0.1.0", label=f"r{i}")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return Store.open(str(tmp_path / "runs.sqlite"))
    return Store.open(request.getfixturevalue("postgres_url"))


def test_save_list_get_round_trip(store: Store) -> None:
    ids = [store.save(sample(i)) for i in range(3)]
    listed = store.list()
    assert [r.id for r in listed] == ids[::-1]
    got = store.get(ids[1])
    assert got.inputs["batch"] == 1 and got.outputs["tpot_s"] == pytest.approx(0.02)
    assert got.provenance is Provenance.PREDICTED and got.created.tzinfo is not None


def test_secrets_never_stored(store: Store) -> None:
    rid = store.save(sample())
    got = store.get(rid)
    assert "sk-SECRET" not in json.dumps(got.inputs) + json.dumps(got.outputs)


def test_unknown_run_id(store: Store) -> None:
    with pytest.raises(InputError, match="no run with id 999"):
        store.get(999)


def test_default_is_sqlite_in_user_data_dir(tmp_path: Path) -> None:
    url = resolve_url(None)
    assert url.get_backend_name() == "sqlite" and url.database == str(default_location())
    assert str(tmp_path) in url.database  # the test fixture points XDG_DATA_HOME into tmp_path


def test_env_var_and_bad_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TCOBENCH_DB", str(tmp_path / "x.sqlite"))
    assert resolve_url(None).database == str(tmp_path / "x.sqlite")
    with pytest.raises(InputError, match="not supported"):
        resolve_url("mysql://u:pw@host/db")


def test_cli_runs_commands_on_postgres(cli, postgres_url: str) -> None:
    Store.open(postgres_url).save(sample(7))
    r = cli("--db", postgres_url, "runs", "list", "--json")
    assert r.code == 0, r.err
    assert any(row["label"] == "r7" for row in json.loads(r.out))
    rid = json.loads(r.out)[0]["id"]
    shown = json.loads(cli("--db", postgres_url, "runs", "show", str(rid), "--json").out)
    assert shown["outputs"]["tpot_s"] == pytest.approx(0.08)


def test_cli_export_csv(cli, tmp_path: Path) -> None:
    db = str(tmp_path / "runs.sqlite")
    Store.open(db).save(sample(1))
    r = cli("--db", db, "runs", "export", "--format", "csv")
    assert r.code == 0, r.err
    header, row = r.out.splitlines()[:2]
    assert "inputs.model" in header and "outputs.tpot_s" in header and "llama-2-7b" in row
    assert "sk-SECRET" not in r.out


# -- the schema: long labels, migration of older stores, first use by many processes at once ----------------
RACER = """
import sys
from tcobench.records import Provenance, Run
from tcobench.store import Store
print("ready", flush=True)
sys.stdin.readline()  # every racer is imported and waiting: all open the new store at the same moment
store = Store.open(sys.argv[1])
run = Run(command="predict", provenance=Provenance.PREDICTED, inputs={}, outputs={}, tool_version="0", label=sys.argv[2])
print(store.save(run), flush=True)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store location nobody has opened yet: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "new" / "runs.sqlite")
    return str(request.getfixturevalue("fresh_postgres"))


def test_eight_processes_opening_a_new_store_at_once_all_save(fresh_db: str) -> None:
    # before: 'table runs already exists' (SQLite) / 'duplicate key ... pg_type_typname_nsp_index' (PostgreSQL)
    procs = [subprocess.Popen([sys.executable, "-c", RACER, fresh_db, f"racer-{i}"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(8)]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline() == "ready\n", p.communicate()[1]
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        done = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [p.returncode for p in procs] == [0] * 8, [err for _, err in done]
    saved = Store.open(fresh_db).list()
    assert sorted(r.label for r in saved) == sorted(f"racer-{i}" for i in range(8))
    assert sorted(int(out) for out, _ in done) == sorted(r.id for r in saved)


def test_a_label_of_any_length_is_kept(store: Store) -> None:
    label = "a long label " * 400  # 5,200 characters: VARCHAR(200) refused this on PostgreSQL at save time
    rid = store.save(Run(command="predict", provenance=Provenance.PREDICTED, inputs={}, outputs={}, tool_version="0",
                         label=label))
    assert store.get(rid).label == label


OLD = sa.MetaData()  # the runs table as stores made before the label became TEXT have it
sa.Table("runs", OLD,
         sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
         sa.Column("created", sa.DateTime(timezone=True), nullable=False, index=True),
         sa.Column("command", sa.String(32), nullable=False, index=True),
         sa.Column("provenance", sa.String(16), nullable=False),
         sa.Column("label", sa.String(200), nullable=False, default=""),
         sa.Column("tool_version", sa.String(32), nullable=False),
         sa.Column("inputs", sa.JSON, nullable=False),
         sa.Column("outputs", sa.JSON, nullable=False))


def test_an_older_postgres_store_is_migrated_once_and_keeps_its_runs(fresh_postgres: str) -> None:
    engine = sa.create_engine(resolve_url(fresh_postgres))
    OLD.create_all(engine)
    with engine.begin() as conn:
        conn.execute(OLD.tables["runs"].insert().values(created=dt.datetime.now(dt.UTC), command="predict",
                                                        provenance="predicted", label="old", tool_version="0",
                                                        inputs={}, outputs={}))

    def label_type() -> str:
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT data_type FROM information_schema.columns WHERE "
                                            "table_name = 'runs' AND column_name = 'label'")).scalar_one())

    assert label_type() == "character varying"
    store = Store.open(fresh_postgres)
    assert label_type() == "text"
    Store.open(fresh_postgres)  # idempotent: opening a migrated store changes nothing
    assert label_type() == "text" and [r.label for r in store.list()] == ["old"]
    rid = store.save(Run(command="predict", provenance=Provenance.PREDICTED, inputs={}, outputs={}, tool_version="0",
                         label="x" * 1000))
    assert store.get(rid).label == "x" * 1000
    engine.dispose()


def test_an_unusable_store_is_a_store_error_naming_db(tmp_path: Path) -> None:
    not_a_db = tmp_path / "runs.sqlite"
    not_a_db.write_text("this is not a database\n" * 100)
    blocked = tmp_path / "file"
    blocked.write_text("")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for db in (str(not_a_db), str(blocked / "sub" / "runs.sqlite"),
               f"postgresql://tcobench:pw-SECRET-42@127.0.0.1:{port}/tcobench?sslpassword=pw-SECRET-42"):
        with pytest.raises(StoreError) as info:
            Store.open(db)
        assert str(info.value).startswith("cannot open results store") and "db or TCOBENCH_DB" in str(info.value)
        assert "pw-SECRET-42" not in str(info.value)
