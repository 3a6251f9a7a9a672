"""``tcobench compare --measured RUN``: claimed, predicted and measured on one row (api/sidebyside.py)."""

from __future__ import annotations

import re

import click

from tcobench.api.sidebyside import SideBySide, side_by_side
from tcobench.cli.context import Context
from tcobench.cli.render import console, print_json, table

NAMES = {"ttft_s": "TTFT", "tpot_s": "TPOT"}


def render_side_by_side(ctx: Context, run: int, model: str, hw_spec: str | None, claims: str | None,
                        precision: str | None, as_json: bool) -> None:
    if hw_spec is None or hw_spec.strip().lower() == "all":
        raise click.UsageError("--measured needs --hardware: the chips or profiles to predict the run on, e.g. "
                               "'--hardware my-cpu.toml,my-cpu-calibrated.toml'")
    res = side_by_side(run, model, hw_spec, claims=claims or (), precision=precision, catalog=ctx.catalog,
                       db=ctx.db)
    if as_json:
        print_json(res.to_dict())
        return
    render(res)


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1e3:,.2f}"


def _ratio(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def _short(what: str) -> str:
    """'decode batch 4 at context 512' -> 'decode 4 @ 512'; 'prefill of 256 tokens' -> 'prefill 256'."""
    m = re.fullmatch(r"decode batch (\d+) at context (\d+)", what)
    if m:
        return f"decode {m[1]} @ {m[2]}"
    m = re.fullmatch(r"prefill of (\d+) tokens", what)
    return f"prefill {m[1]}" if m else what.removeprefix("level ")


def render(res: SideBySide) -> None:
    out = console()
    claimed = any(r.claim for r in res.rows)
    cols = ["shape", "metric", *(["claimed ms", "claim"] if claimed else [])]
    for h in res.hardware:
        cols += [f"{h} ms", "ratio"]
    cols += ["measured ms", *(["ratio", "verdict"] if claimed else [])]
    body = []
    for r in res.rows:
        cells = [_short(r.what), NAMES.get(r.metric, r.metric)]
        if claimed:
            cells += [_ms(r.claimed), r.claim or ""]
        for p, q in zip(r.predicted, r.ratios(), strict=True):
            cells += [_ms(p), _ratio(q)]
        cells.append(_ms(r.measured))
        if claimed:
            cells += [_ratio(None if r.claimed is None or not r.measured > 0 else r.claimed / r.measured), r.verdict or ""]
        body.append(cells)
    title = (f"{res.command} run {res.run}" + (f" ({res.label})" if res.label else "")
             + f": {res.model} in {res.precision}, predicted on {', '.join(res.hardware)}")
    justify = ["left", "left", *(["right", "left"] if claimed else []), *(["right"] * (2 * len(res.hardware) + 1)),
               *(["right", "left"] if claimed else [])]
    t = table(title, cols, body, justify=justify)
    for col in t.columns:
        col.no_wrap = True
    out.print(t)
    for note in res.left_out:
        out.print(f"left out: {note}")
    out.print("ratio: predicted / measured (perf's prediction for the same load), claimed / measured after the "
              "measurement; shape: a prefill's tokens, a decode step's batch @ context, a bench level; TTFT and TPOT of "
              "a bench level are p50, of a measure shape the fastest repetition" + ("" if not claimed else
              "; a claim is shown in the run's terms (a TPOT for a per-user rate or a decode step's tokens/s)"))
