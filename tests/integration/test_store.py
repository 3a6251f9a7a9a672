"""The results store against real SQLite and a real PostgreSQL server."""

import json
from pathlib import Path

import pytest

from tcobench.errors import InputError
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
