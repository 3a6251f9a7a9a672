"""The 100 TensorRT-LLM v1.0 rows in validation.toml are what scripts/trtllm_v1_rows.py writes: the engine
settings in them can be re-derived, not just read."""

import contextlib
import importlib.util
import io
import tomllib
from pathlib import Path
from types import ModuleType

from tcobench.perf.validate import load_rows

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "trtllm_v1_rows.py"


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trtllm_v1_rows", SCRIPT)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_shipped_v1_rows_are_the_scripts_output() -> None:
    mod = script()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        mod.main()
    written = tomllib.loads(out.getvalue())["row"]
    shipped = {r.id: r for r in load_rows() if r.ref == "TRT10-PERF"}
    assert len(written) == len(shipped) == 100
    for rid, raw in written.items():
        row = shipped[rid]
        assert (row.batch, row.requests, row.published, dict(row.engine), row.cuda_graph_batches) == (
            raw["batch"], raw["requests"], raw["published"], raw["engine"], raw["cuda_graph_batches"]), rid


def test_the_tuning_rule_rounds_as_documented() -> None:
    mod = script()
    assert mod.tuned(10.0, 128, 128) == (64, 2048)  # at least 64 sequences and 2048 tokens
    assert mod.tuned(300.0, 128, 128) == (384, 2048)  # multiple of 128 below 1024
    assert mod.tuned(5000.0, 128, 128) == (4096, 8192)  # capped at 4096; 8192 tokens
    assert mod.tuned(50.0, 20000, 2000) == (64, 20064)  # a whole prompt must fit one step: isl + batch


def test_graphs_are_captured_up_to_the_engine_cap_and_at_it() -> None:
    mod = script()
    assert mod.captured(512, 2048) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512]  # the cap is a listed size
    assert mod.captured(3584, 7168) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 1024, 2048, 3584]
    assert mod.captured(4096, 2048) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 1024, 2048]  # max_num_tokens caps it
