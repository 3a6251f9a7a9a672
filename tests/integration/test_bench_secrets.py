"""No credential a user types ever leaves ``bench`` except in the request itself (docs/bench.md, "Credentials").

A unique string is planted in every place a user can type a key: the URL's user name and password, secret-looking
query parameters, the environment variable the key is read from, the label, a URL inside the label, and the key
itself typed as the ``--api-key-env`` value. The requests still authenticate (the scripted server sees the
credentials, and echoes them back in a 401 body), and the string is then looked for in the SQLite file, a dump of
PostgreSQL's runs table, ``runs export`` (CSV and JSON), ``runs list`` / ``runs show``, ``--json`` output, the
table output, stderr and the report's HTML. A run saved by an older version with credentials in it is read back
redacted too.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import tcobench
from tcobench.errors import InputError
from tcobench.loadgen.result import RequestResult
from tcobench.loadgen.runner import Load
from tcobench.store import Store, resolve_url, runs
from tests.servers.scripted import ScriptedServer

S = uuid.uuid4().hex  # in every planted secret: found anywhere, something leaked
QUICK = ["--model", "m", "--num-requests", "4", "--output-len", "4", "--warmup", "0", "--quiet"]


def _url(srv: ScriptedServer, *, userinfo: bool = True) -> str:
    creds = f"user{S}a:pw{S}b@" if userinfo else ""
    return f"http://{creds}127.0.0.1:{srv.port}/v1?api_key=qk{S}c&access_token=qt{S}d&api-version=7"


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return str(tmp_path / "runs.sqlite") if request.param == "sqlite" else str(request.getfixturevalue("fresh_postgres"))


def _everything_stored(db: str) -> str:
    """The store's raw bytes (SQLite) or every row of its runs table as text (PostgreSQL)."""
    if "://" not in db:
        return Path(db).read_bytes().decode("latin-1")
    engine = sa.create_engine(resolve_url(db))
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT row_to_json(r)::text FROM runs r")).scalars().all()
    engine.dispose()
    assert rows
    return "\n".join(rows)


def _everything_shown(cli: Callable[..., Any], db: str, report: Path, run_ids: list[int]) -> str:
    """The output of every command that shows saved runs: export (CSV, JSON), list, show, and the report's page."""
    shown = []
    for args in (["runs", "export", "--format", "csv"], ["runs", "export", "--format", "json"], ["runs", "list"],
                 ["runs", "list", "--json"], *(["runs", "show", str(i), *j] for i in run_ids for j in ([], ["--json"])),
                 ["report", "-o", str(report), *(a for i in run_ids for a in ("--run", str(i)))]):
        r = cli("--db", db, *args)
        assert r.code == 0, r.err
        shown += [r.out, r.err]
    return "\n".join([*shown, report.read_text()])


def test_credentials_typed_anywhere_are_sent_but_never_stored_exported_printed_or_rendered(
        cli, db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("BENCH_SECRET_KEY", f"envkey{S}g")
    seen: list[str] = []
    with ScriptedServer(plan=lambda n: "status:401" if n in (0, 4) else "ok") as srv:
        srv.on_headers = seen.append  # type: ignore[method-assign]
        # user:password in the URL and no key: basic authentication, the query sent as typed; a table on stdout
        a = cli("--db", db, "bench", "--url", _url(srv), *QUICK, "--label", f"key sk-label{S}e from http://u:pw{S}f@h/")
        # the key from the environment as a bearer token, with the query; --json on stdout
        b = cli("--db", db, "bench", "--url", _url(srv, userinfo=False), *QUICK, "--api-key-env", "BENCH_SECRET_KEY",
                "--json")
        targets = list(srv.targets)
    assert (a.code, b.code) == (0, 0), a.err + b.err
    basic = "Basic " + base64.b64encode(f"user{S}a:pw{S}b".encode()).decode()
    assert seen == [basic] * 4 + [f"Bearer envkey{S}g"] * 4  # the credentials were sent
    assert len(targets) == 8
    assert all(t == f"/v1/chat/completions?api_key=qk{S}c&access_token=qt{S}d&api-version=7" for t in targets)
    doc = json.loads(b.out)
    assert doc["levels"][0]["errors"] == {"http_401": 1}  # the server echoed the credentials in this one's body
    assert doc["settings"]["url"] == f"http://127.0.0.1:{srv.port}?api_key=***&access_token=***&api-version=7"
    assert doc["settings"]["key_env_var"] == "BENCH_SECRET_KEY"
    saved = Store.open(db).list()
    assert [r.inputs["url"] for r in saved] == [doc["settings"]["url"], doc["settings"]["url"].replace("//", "//***@")]
    assert saved[1].label == "key *** from http://***@h/"
    shown = _everything_shown(cli, db, tmp_path / "report.html", [r.id for r in saved])
    assert f"127.0.0.1:{srv.port}?api_key=***" in shown  # the report's headings and the exports name the endpoint
    for where, text in [("stdout/stderr of bench", a.out + a.err + b.out + b.err), ("runs/report output", shown),
                        ("store", _everything_stored(db))]:
        assert S not in text, f"a planted credential is in the {where}"


def test_a_run_an_older_version_saved_with_credentials_is_shown_without_them(cli, db: str, tmp_path: Path) -> None:
    engine = sa.create_engine(resolve_url(db))
    Store(engine)  # the schema
    with engine.begin() as conn:  # straight into the table, as a version without redaction could have written it
        key = conn.execute(runs.insert().values(
            created=dt.datetime.now(dt.UTC), command="bench", provenance="measured", label=f"sk-old{S}z",
            tool_version="0", inputs={"url": f"http://old:pw{S}x@old.example/v1?token=tk{S}y", "model": "m"},
            outputs={"levels": [{"concurrency": 1, "rate": None, "requests_ok": 1, "requests_failed": 0,
                                 "errors": {}, "output_tokens_per_s": 10.0}], "interrupted": False})).inserted_primary_key
    engine.dispose()
    assert key is not None
    shown = _everything_shown(cli, db, tmp_path / "report.html", [int(key[0])])
    assert "http://***@old.example/v1?token=***" in shown
    assert S not in shown


@pytest.mark.parametrize("value, says", [
    (f"sk-typed{S}h", "takes the name of the environment variable"),  # not a name: the key itself
    (f"gsk_{S}i", "names an environment variable that is not set"),  # shaped like a name, but no such variable
])
def test_a_key_typed_as_the_api_key_env_value_is_refused_without_echoing_it(
        cli, bench_cli: Callable[..., Any], value: str, says: str) -> None:
    with ScriptedServer() as srv:
        r = cli("bench", "--url", srv.url, *QUICK, "--api-key-env", value, "--json")
        with pytest.raises(InputError) as err:
            tcobench.bench(srv.url, "m", num_requests=1, api_key_env=value)
        posts = srv.posts
    assert r.code == 2 and says in r.err and r.err.startswith("InputError: --api-key-env ") and r.out == ""
    assert str(err.value).startswith("api_key_env ") and says in str(err.value)
    assert posts == 0 and S not in r.err + str(err.value)
    assert Store.open(None).list() == []


@pytest.mark.parametrize("url", [f"ftp://user:pw{S}@host/v1", f"http://user:pw{S}@host:port/v1",
                                 f"http://:pw{S}@/v1?api_key={S}"])
def test_a_bad_url_with_credentials_is_refused_without_echoing_them(cli, url: str) -> None:
    r = cli("bench", "--url", url, *QUICK)
    with pytest.raises(InputError) as err:
        tcobench.bench(url, "m")
    assert r.code == 2 and r.err.startswith("InputError: --url 'ftp://***@host/v1'" if url.startswith("ftp") else
                                            "InputError: --url 'http://***@")
    assert S not in r.err + r.out + str(err.value)


def test_from_python_the_result_and_each_request_hold_no_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", f"envkey{S}g")
    details: list[str] = []

    def progress(load: Load, total: int | None) -> Callable[[RequestResult], None]:
        return lambda r: details.append(str(r.detail))

    with ScriptedServer(plan=lambda n: "status:401" if n == 0 else "ok") as srv:
        result = tcobench.bench(_url(srv), "m", num_requests=3, output_len=4, warmup=0, progress=progress)
    assert result.to_dict()["levels"][0]["errors"] == {"http_401": 1}
    assert details[0].startswith('{"error": {"message": "scripted 401 for Bearer *** at /v1/chat/completions?'
                                 'api_key=***&access_token=***&api-version=7"')
    assert result.settings.url == f"http://***@127.0.0.1:{srv.port}?api_key=***&access_token=***&api-version=7"
    assert S not in json.dumps(result.to_dict()) + repr(result) + "\n".join(details)
