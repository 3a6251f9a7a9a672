"""Fuzzing every way input enters: each flag family of the command line and each file loader, with hypothesis.

The property, for any text a user may type or any file they may pass: the command ends with exit code 0, 1 or 2;
a failure is one line on stderr, ``ErrorType: message``, that names the input (its flag, its file, or the value);
never a traceback (an exception other than SystemExit fails the test with its traceback). Where the command
succeeds, the value was a finite number in the flag's range and no ``nan`` or ``inf`` reaches the output.

Runs are short (``max_examples`` per family below, no deadline): the whole file takes well under a minute on two
cores. The catalog is loaded once and shared (it is frozen) unless a test passes its own catalog file.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcobench.cli.context as context
from tcobench import checks, units
from tcobench.catalog import load_catalog
from tcobench.cli.main import main
from tcobench.errors import InputError, TcobenchError

EXAMPLES = 30  # per family; a family whose every example runs a full command takes a few milliseconds each


def fuzz(n: int = EXAMPLES) -> settings:
    """Derandomized by default, so that CI fails the same way every time or not at all (a random failure found once
    and never replayed cost a session a search); TCOBENCH_FUZZ_RANDOM=1 explores new examples, e.g. locally."""
    return settings(max_examples=n, deadline=None, database=None,
                    derandomize=os.environ.get("TCOBENCH_FUZZ_RANDOM") != "1",
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much])


@pytest.fixture(autouse=True, scope="module")
def _shared_catalog() -> Iterator[None]:
    """The shipped catalog, loaded once for the module; a command given --catalog files loads its own."""
    cached = functools.cache(load_catalog)
    mp = pytest.MonkeyPatch()
    mp.setattr(context, "load_catalog", lambda paths=(): cached() if not paths else load_catalog(paths))
    yield
    mp.undo()


def run(*args: str) -> tuple[int, str, str]:
    """``tcobench ARGS`` in-process: (exit code, stdout, stderr). Any exception but SystemExit propagates."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def names(message: str, *inputs: str) -> bool:
    """Whether ``message`` names one of ``inputs``: a flag ('--tp'), its parameter ('tp', 'input_len'), a file or
    the value itself (a non-blank one)."""
    found = []
    for x in inputs:
        if x.startswith("-"):
            found += [x, x.lstrip("-"), x.lstrip("-").replace("-", "_")]
        elif x.strip():
            found += [x.strip(), repr(x)[1:-1].strip()]
    return any(f and f in message for f in found)


def check(result: tuple[int, str, str], *inputs: str, each: bool = False) -> tuple[int, str]:
    """Exit 0, 1 or 2; a failure is one line 'ErrorType: message' naming one of ``inputs`` (with ``each``: one such
    line per problem, as audit prints one per malformed claim)."""
    code, out, err = result
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err, err
    if code:
        lines = err.strip().splitlines()
        assert len(lines) == 1 or each, err
        for line in lines:
            kind, _, message = line.partition(": ")
            assert kind.isidentifier() and message, line
            assert names(message, *inputs), (inputs, line)
    return code, out


NO_NAN = re.compile(r"\b(nan|inf|-inf)\b", re.I)

# -- what a user may type -------------------------------------------------------------------------------------------
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=24)
NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**30, 10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "NaN", "Infinity", "1e999", "-1e999", "1e-400", "-0", "0", "0.0", "1_000",
                     "+5", ".5", "5.", "0x10", "1,5", " 7 ", "٣", "５", "²", "True", ""]),
)
FULLWIDTH = st.integers(0, 10**6).map(lambda i: str(i).translate(str.maketrans("0123456789", "０１２３４５６７８９")))
COUNT_TEXT = st.one_of(st.integers(-10**25, 10**25).map(str), st.integers(0, 10**10).map(str), NUMBER_TEXT, FULLWIDTH,
                       TEXT)
UNITS = st.sampled_from(["ms", "s", " s", "us", "µs", "min", "h", "ns", "", "ms(", "(ms)", "ms)", "[s]", "GB", "m s",
                         "s/s", "ms ms", "ms!", "ｍｓ", "s^2", "1/s", "/s", "s**", "s)(", " ms # c", "s\n"])
DURATION_TEXT = st.one_of(TEXT, st.builds(lambda n, u: f"{n}{u}", NUMBER_TEXT, UNITS))
MONEY_TEXT = st.one_of(NUMBER_TEXT, TEXT, st.builds(lambda s, n, u: f"{s}${n}{u}", st.sampled_from(["", "-", " "]),
                                                    NUMBER_TEXT, st.sampled_from(["", "/h", "/hr", "/s", "/kWh", "(", " USD"])))


def flag(*parts: str) -> str:
    """'--tp=VALUE': the value attached, so that a value starting with '-' is never read as a flag."""
    return "".join(parts)


PREDICT = ("predict", "--model", "llama-2-7b", "--hardware", "h100-sxm")
COMPARE = ("compare", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--workload", "chat")
PLAN = ("plan", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--workload", "chat", "--qps", "2")
SWEEP = ("sweep", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--precision", "bf16", "--tp", "1", "--batch",
         "1:8", "--quiet")


# -- durations ------------------------------------------------------------------------------------------------------
@fuzz(40)
@given(name=st.sampled_from(["--slo-ttft", "--slo-tpot"]), value=DURATION_TEXT,
       command=st.sampled_from(["predict", "compare", "sweep"]))
def test_durations(name: str, value: str, command: str) -> None:
    base = {"predict": (*PREDICT, "--batch", "auto"), "compare": COMPARE, "sweep": SWEEP}[command]
    code, out = check(run(*base, flag(name, "=", value)), name, value)
    if code == 0:  # accepted: a finite duration > 0
        seconds = units.parse(value, "s")
        assert math.isfinite(seconds) and seconds > 0, value
        assert not NO_NAN.search(out), out[-400:]


# -- money ----------------------------------------------------------------------------------------------------------
@fuzz(40)
@given(name=st.sampled_from(["--price-hour", "--price-chip", "--electricity", "--hosting"]), value=MONEY_TEXT)
def test_money(name: str, value: str) -> None:
    basis = "rent" if name == "--price-hour" else "own"
    code, out = check(run(*COMPARE, "--basis", basis, flag(name, "=", value)), name, value)
    if code == 0:
        assert not NO_NAN.search(out) and "$-" not in out, out[-400:]
        unit = {"--price-hour": "USD/h", "--price-chip": "USD", "--electricity": "USD/J", "--hosting": "USD/W/s"}[name]
        parsed = float(value) if checks.is_number_text(value) else units.parse(value, unit)
        assert math.isfinite(parsed) and parsed >= 0, value


# -- counts ---------------------------------------------------------------------------------------------------------
COUNT_FLAGS = [(PREDICT, "--tp"), (PREDICT, "--pp"), (PREDICT, "--ep"), (PREDICT, "--chips"), (PREDICT, "--input-len"),
               (PREDICT, "--output-len"), (PREDICT, "--max-context"), (PREDICT, "--requests"), (PREDICT, "--moe-ep"),
               (PREDICT, "--spec-tokens"), (PREDICT, "--batch"), (COMPARE, "--max-chips"), (COMPARE, "--input-len"),
               (SWEEP, "--top"), (SWEEP, "--chunk"), (("runs", "list"), "--limit")]


@fuzz(60)
@given(where=st.sampled_from(COUNT_FLAGS), value=COUNT_TEXT)
def test_counts(where: tuple[tuple[str, ...], str], value: str) -> None:
    base, name = where
    extra = ("--acceptance", "0.5") if name == "--spec-tokens" and value.strip() not in ("0", "+0") else ()
    code, out = check(run(*base, *extra, flag(name, "=", value)), name, value)
    if code == 0:  # accepted: ASCII digits, a whole number in range
        assert re.fullmatch(r"\s*\+?[0-9]+\s*", value, re.ASCII) and int(value) <= checks.MAX_COUNT, value
        assert not NO_NAN.search(out), out[-400:]


@fuzz(30)
@given(value=COUNT_TEXT, command=st.sampled_from(["show", "report"]))
def test_run_ids(value: str, command: str) -> None:
    args = ("runs", "show", "--", value) if command == "show" else ("report", flag("--run=", value))
    check(run(*args), "RUN_ID", "--run", value)


# -- ratios and other real numbers ----------------------------------------------------------------------------------
RATIO_FLAGS = [(COMPARE, "--utilisation"), (COMPARE, "--pue"), (COMPARE, "--cost-of-capital"), (COMPARE, "--maintenance"),
               (COMPARE, "--amortisation-years"), (PLAN, "--qps"), (PLAN, "--peak-factor"),
               ((*PREDICT, "--spec-tokens", "2"), "--acceptance")]


@fuzz(50)
@given(where=st.sampled_from(RATIO_FLAGS), value=st.one_of(NUMBER_TEXT, TEXT))
def test_ratios(where: tuple[tuple[str, ...], str], value: str) -> None:
    base, name = where
    code, out = check(run(*base, flag(name, "=", value)), name, value)
    if code == 0:
        x = float(value)
        assert math.isfinite(x) and x >= 0, value
        assert not NO_NAN.search(out), out[-400:]


# -- lists and ranges -----------------------------------------------------------------------------------------------
RANGE_TEXT = st.one_of(
    TEXT,
    st.lists(st.one_of(st.integers(-3, 3000).map(str), COUNT_TEXT), min_size=0, max_size=4).map(",".join),
    st.builds(lambda lo, hi, sep, step: f"{lo}:{hi}{sep}{step}", st.integers(-2, 600), st.integers(-2, 2000),
              st.sampled_from(["", ":", ":x", ": x"]), st.one_of(st.integers(-2, 64).map(str), NUMBER_TEXT)),
)


@fuzz(50)
@given(axis=st.sampled_from(["--tp", "--pp", "--ep", "--batch", "--input-len", "--output-len"]), value=RANGE_TEXT)
def test_sweep_axes(axis: str, value: str) -> None:
    base = [a for a in SWEEP]
    if axis in base:  # replace the default given in SWEEP
        i = base.index(axis)
        del base[i:i + 2]
    code, out = check(run(*base, flag(axis, "=", value)), axis, value)
    if code == 0:
        doc_line = out.splitlines()[0]
        assert doc_line.startswith("evaluated ") and not NO_NAN.search(out), out[-400:]



TRAIN_SWEEP = ("sweep", "--train", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--chips", "8,16", "--tp", "1,2",
               "--pp", "1,2", "--micro-batch", "1", "--quiet")


@fuzz(50)
@given(axis=st.sampled_from(["--chips", "--tp", "--pp", "--cp", "--ep", "--vpp", "--micro-batch", "--zero", "--recompute"]),
       value=st.one_of(RANGE_TEXT, st.lists(st.sampled_from(["none", "selective", "full", "0", "3", "ful", ""]),
                                            max_size=3).map(",".join)))
def test_training_sweep_axes(axis: str, value: str) -> None:
    base = [a for a in TRAIN_SWEEP]
    if axis in base:
        i = base.index(axis)
        del base[i:i + 2]
    code, out = check(run(*base, flag(axis, "=", value)), axis, value)
    if code == 0:
        assert out.splitlines()[0].startswith("llama-2-7b: train ") and not NO_NAN.search(out), out[-400:]

HARDWARE_IDS = st.sampled_from(["h100-sxm", "mi300x", "b200", "H100-SXM", "h100sxm", "all", "", " ", "tpu-v5p"])


@fuzz(40)
@given(name=st.sampled_from(["--hardware", "--precision"]),
       items=st.lists(st.one_of(HARDWARE_IDS, st.sampled_from(["bf16", "fp8", "fp4", "int8", "bf-16"]), TEXT),
                      max_size=4),
       sep=st.sampled_from([",", ", ", ",,"]))
def test_lists_of_ids(name: str, items: list[str], sep: str) -> None:
    value = sep.join(items)
    base = ["compare", "--model", "llama-2-7b", "--workload", "chat", "--basis", "rent"]
    if name == "--precision":
        base += ["--hardware", "h100-sxm"]
    code, _ = check(run(*base, flag(name, "=", value)), name, *items)
    if code == 0:
        assert any(i.strip() for i in value.split(",")), value  # a list that names nothing is never "all"


@fuzz(30)
@given(value=st.one_of(RANGE_TEXT, st.lists(st.integers(-5, 10**12).map(str), max_size=3).map(",".join)))
def test_cuda_graph_batches(value: str) -> None:
    check(run(*PREDICT, "--batch", "4", flag("--cuda-graph-batches=", value)), "--cuda-graph-batches", value)


@fuzz(40)
@given(value=st.one_of(RANGE_TEXT, st.lists(NUMBER_TEXT, max_size=3).map(",".join)),
       kind=st.sampled_from([int, float]))
def test_bench_levels(value: str, kind: type) -> None:
    """bench --concurrency / --rate, read by the library before any request is sent."""
    from tcobench.api.inputs import positive_numbers

    param = "concurrency" if kind is int else "rate"
    try:
        got = positive_numbers(value, kind, param)
    except InputError as err:
        assert param in str(err) and "\n" not in str(err)
        return
    assert all(isinstance(v, kind) and math.isfinite(v) and v > 0 for v in got)


# -- ids ------------------------------------------------------------------------------------------------------------
ID_TEXT = st.one_of(TEXT, st.sampled_from(["llama-2-7b", "Llama-2-7B", "llama2-7b", "h100-sxm", "chat", "default", "x.toml",
                                           "x.json", "/", ".", "..", "a/b", "config.json"]))


@fuzz(50)
@given(where=st.sampled_from([(PREDICT[:1], "--model"), (("predict", "--model", "llama-2-7b"), "--hardware"),
                              (COMPARE[:5], "--workload"), (PREDICT, "--runtime"), (COMPARE, "--cost-basis"),
                              (PREDICT, "--precision"), (("catalog", "show"), "ID"), (("audit",), "--explain")]),
       value=ID_TEXT)
def test_ids(where: tuple[tuple[str, ...], str], value: str) -> None:
    base, name = where
    if name == "ID":
        check(run(*base, "--", value), "catalog show", value)
    elif name == "--hardware":
        check(run(*base, flag(name, "=", value)), name, value)
    else:
        extra = ("--hardware", "h100-sxm") if name == "--model" else ()
        check(run(*base, *extra, flag(name, "=", value)), name, value)


# -- paths ----------------------------------------------------------------------------------------------------------
NAME = st.text(st.sampled_from("abcXYZ019._- "), min_size=0, max_size=12).filter(lambda n: n.strip(". ") != "" or n == "")


@fuzz(30)
@given(name=NAME, suffix=st.sampled_from(["", ".csv", ".parquet", ".txt", "/", "/x.csv"]),
       where=st.sampled_from(["--output", "-o", "--catalog", "--db", "audit"]))
def test_paths(tmp_path_factory: pytest.TempPathFactory, name: str, suffix: str, where: str) -> None:
    folder = tmp_path_factory.mktemp("paths")
    path = str(folder / name) + suffix
    args = {"--output": (*SWEEP, flag("--output=", path)), "-o": ("runs", "export", flag("--output=", path)),
            "--catalog": (flag("--catalog=", path), "catalog", "show", "h100-sxm"),
            "--db": (flag("--db=", path), "runs", "list"), "audit": ("audit", "--", path)}[where]
    check(run(*args), where, "--output", path, str(Path(path)), Path(path).name, each=where == "audit")


# -- files ----------------------------------------------------------------------------------------------------------
QUANTITY = st.builds(lambda n, u: f"{n} {u}".strip(), NUMBER_TEXT, st.sampled_from(["TB/s", "GB", "TFLOP/s", "W", "", "GB/s",
                                                                                      "TB/s(", "tb/s"]))
TOML_VALUE = st.one_of(QUANTITY.map(json.dumps), NUMBER_TEXT.filter(lambda t: re.fullmatch(r"-?[0-9]+", t) is not None),
                       st.sampled_from(["0", "-1", "true", "nan", "inf", "1e400", "0.5", "[]", "{}"]))
CHIP = """[source.t]
title = "t"
[hardware.chip0]
name = "c"
vendor = "v"
kind = "gpu"
peak_dense = {{ bf16 = {{ value = {peak}, source = "t" }} }}
memory = {{ capacity = {{ value = {capacity}, source = "t" }}, bandwidth = {{ value = {bandwidth}, source = "t" }} }}
scale_up = {{ bandwidth = {{ value = "450 GB/s", direction = "per-direction", source = "t" }}, domain = {{ value = {domain}, source = "t" }} }}
power = {{ tdp = {{ value = {tdp}, source = "t" }} }}
"""
VALID = {"peak": '"989 TFLOP/s"', "capacity": '"80 GB"', "bandwidth": '"3.35 TB/s"', "domain": "8", "tdp": '"700 W"'}


@fuzz(25)
@given(key=st.sampled_from(sorted(VALID)), value=TOML_VALUE)
def test_catalog_figures(tmp_path_factory: pytest.TempPathFactory, key: str, value: str) -> None:
    path = tmp_path_factory.mktemp("cat") / "chip.toml"
    path.write_text(CHIP.format(**{**VALID, key: value}), encoding="utf-8")
    code, _, err = run("catalog", "lint", str(path))
    assert code in (0, 2) and "Traceback" not in err, err
    assert code == 0 or all(str(path) in ln or "problem(s)" in ln for ln in err.strip().splitlines()), err
    code, out = check(run("--catalog", str(path), "predict", "--model", "llama-2-7b", "--hardware", "chip0", "--json"),
                      str(path), "chip0")
    if code == 0:  # the chip passed: every figure the model reads is finite
        doc = json.loads(out)
        assert all(isinstance(doc[k], int | float) and math.isfinite(doc[k]) and doc[k] > 0
                   for k in ("ttft_s", "tpot_s", "output_tokens_per_s")), doc


@fuzz(25)
@given(data=st.one_of(st.binary(max_size=120), TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
                      st.builds(lambda a, b: a + b, st.just(b'[source.t]\ntitle = "'), st.binary(max_size=8))))
def test_catalog_files_of_any_bytes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("cat") / "any.toml"
    path.write_bytes(data)
    code, _, err = run("catalog", "lint", str(path))
    assert code in (0, 2) and "Traceback" not in err, err
    check(run("--catalog", str(path), "catalog", "show", "h100-sxm"), str(path))


CLAIM = """[source.t]
title = "t"
[claim.c]
statement = "s"
source = "t"
date = {date}
kind = "cost-per-tokens"
claimed = {claimed}
unit = "USD/ktoken"
tolerance = {tolerance}
inputs = {{ throughput = {throughput}, price_per_hour = {price} }}
"""
CLAIM_OK = {"date": '"2023-07"', "claimed": "0.0013", "tolerance": "0.05", "throughput": '"211 token/s"',
            "price": '"1 USD/h"'}
CLAIM_VALUES = st.one_of(TOML_VALUE, st.sampled_from(['"2024-13-45"', '"2024-02-30"', '"2024"', '"２０２４"', '"0 token/s"',
                                                      '"-1 USD/h"', '"1 USD/h("', '"211 token/s"', '"nan token/s"']),
                         TEXT.map(json.dumps))


@fuzz(30)
@given(key=st.sampled_from(sorted(CLAIM_OK)), value=CLAIM_VALUES)
def test_claim_files(tmp_path_factory: pytest.TempPathFactory, key: str, value: str) -> None:
    path = tmp_path_factory.mktemp("claims") / "claims.toml"
    path.write_text(CLAIM.format(**{**CLAIM_OK, key: value}), encoding="utf-8")
    code, out, err = run("audit", str(path), "--json")
    assert code in (0, 2) and "Traceback" not in err, err
    for line in err.strip().splitlines():
        kind, _, message = line.partition(": ")
        assert kind.isidentifier() and str(path) in message or "claim.c" in message, line
    if code == 0:  # read and derived: the numbers are finite
        claim = json.loads(out)["claims"][0]
        assert claim["error"] is None and math.isfinite(claim["claimed_value"]) and claim["claimed_value"] > 0, claim
        assert claim["derived_value"] is None or math.isfinite(claim["derived_value"]), claim


JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | TEXT,
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                          max_leaves=6)
LLAMA = {"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 256, "num_attention_heads": 4,
         "num_key_value_heads": 2, "intermediate_size": 512, "vocab_size": 1000, "max_position_embeddings": 4096,
         "hidden_act": "silu", "tie_word_embeddings": False}


@fuzz(40)
@given(key=st.sampled_from([*LLAMA, "head_dim", "num_local_experts", "text_config", "quantization_config"]),
       value=JSON_VALUE, model_type=st.sampled_from(["llama", "llama4", "gemma3", "deepseek_v3", "qwen2_moe", "falcon"]))
def test_hf_configs(tmp_path_factory: pytest.TempPathFactory, key: str, value: object, model_type: str) -> None:
    folder = tmp_path_factory.mktemp("hf") / "m"
    folder.mkdir()
    path = folder / "config.json"
    path.write_text(json.dumps({**LLAMA, "model_type": model_type, key: value}), encoding="utf-8")
    code, out = check(run("predict", "--model", str(path), "--hardware", "h100-sxm", "--json"), str(path), "m")
    if code == 0:
        doc = json.loads(out)
        assert all(isinstance(doc[k], int | float) and math.isfinite(doc[k]) for k in ("ttft_s", "tpot_s")), doc


@fuzz(30)
@given(lines=st.lists(st.one_of(TEXT, JSON_VALUE.map(json.dumps),
                                st.fixed_dictionaries({"prompt": st.one_of(TEXT, JSON_VALUE)},
                                                      optional={"output_len": JSON_VALUE}).map(json.dumps)),
                      max_size=4),
       raw=st.binary(max_size=6))
def test_prompt_files(tmp_path_factory: pytest.TempPathFactory, lines: list[str], raw: bytes) -> None:
    from tcobench.loadgen.prompts import load_jsonl, load_sharegpt

    path = tmp_path_factory.mktemp("prompts") / "p.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + raw)
    for load in (load_jsonl, load_sharegpt):
        try:
            got = load(path)
        except InputError as err:
            assert str(path) in str(err) and "\n" not in str(err)
            continue
        assert all(p.output_len is None or 1 <= p.output_len <= checks.MAX_COUNT for p in got.prompts)


# -- the parsers underneath, on any text ----------------------------------------------------------------------------
@fuzz(100)
@given(text=st.one_of(TEXT, DURATION_TEXT, MONEY_TEXT), unit=st.sampled_from(["s", "B/s", "USD/h", "1", "USD/J"]))
def test_units_parse_is_finite_or_a_unit_error(text: str, unit: str) -> None:
    try:
        value = units.parse(text, unit, where="{x}")
    except TcobenchError as err:
        assert "x" in str(err) and "\n" not in str(err)
        return
    assert math.isfinite(value)


@fuzz(60)
@given(url=st.one_of(TEXT, st.builds(lambda s, h, p, path: f"{s}{h}{p}{path}",
                                     st.sampled_from(["http://", "https://", "ftp://", "http:/", ""]),
                                     st.sampled_from(["127.0.0.1", "[::1]", "[::1", "localhost", "", "a b", "пример.рф",
                                                      "h_o-st.x", "u:p@h"]),
                                     st.one_of(st.just(""), st.integers(-5, 10**6).map(lambda p: f":{p}"),
                                               TEXT.map(lambda t: ":" + t)),
                                     st.one_of(st.just(""), TEXT.map(lambda t: "/" + t)))))
def test_bench_urls(url: str) -> None:
    from tcobench.loadgen.client import base_url

    try:
        got = base_url(url)
    except InputError as err:
        assert str(err).startswith("url ") and "\n" not in str(err)
        return
    got.encode("latin-1")  # the request line is sent as Latin-1 bytes
    assert got.startswith(("http://", "https://"))
