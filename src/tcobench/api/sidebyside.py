"""``tcobench.side_by_side`` (``compare --measured RUN``): claimed, predicted and measured on one row.

For every measurement of a saved ``bench`` or ``measure`` run that perf predicts too (a level's TTFT and TPOT p50,
a shape's TTFT or TPOT), one row: the claim about it, if a claims file cites it, perf's prediction for the same load
on each hardware given (a catalog chip, a probed profile, the profile ``calibrate`` wrote), and the measurement,
with the ratios. The measured side (the run) and the predicted side (perf) meet here, above both; the run is read
the way ``audit`` reads a cited one (``claims/measured.py``), so a row and a claim's verdict agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tcobench.api.inputs import HardwareRef, Ref, catalog_or_default, hardware_list, model_of
from tcobench.api.tasks import _store, saved_runs
from tcobench.catalog import Catalog, Hardware, Model
from tcobench.claims import audit_claims, builtin_dir, load_claims
from tcobench.claims.measured import Measurement, levels, measurement, predict_load
from tcobench.claims.schema import Claim
from tcobench.errors import InputError, MissingInputError, TcobenchError
from tcobench.records import Run, Tabular


@dataclass(frozen=True)
class Row:
    """One measurement: ``measured`` and each hardware's ``predicted`` in SI (seconds), the claim about it if any."""

    what: str  # "decode batch 1 at context 128", "level concurrency 4"
    metric: str  # ttft_s or tpot_s
    measured: float
    predicted: tuple[float | None, ...]  # per hardware, in SideBySide.hardware's order
    claim: str | None = None  # the id of the claim that cites this measurement
    claimed: float | None = None  # what it claims, in the measurement's own terms (seconds)
    verdict: str | None = None

    def ratios(self) -> tuple[float | None, ...]:
        """predicted / measured, per hardware."""
        return tuple(None if p is None or not self.measured > 0 else p / self.measured for p in self.predicted)

    def to_dict(self, hardware: Sequence[str]) -> dict[str, Any]:
        return {"what": self.what, "metric": self.metric, "claim": self.claim, "claimed": self.claimed,
                "verdict": self.verdict, "measured": self.measured,
                "claimed_over_measured": None if self.claimed is None or not self.measured > 0 else self.claimed / self.measured,
                "predicted": {h: p for h, p in zip(hardware, self.predicted, strict=True)},
                "predicted_over_measured": {h: r for h, r in zip(hardware, self.ratios(), strict=True)}}


@dataclass(frozen=True)
class SideBySide(Tabular):
    run: int
    command: str  # bench or measure
    label: str
    model: str
    precision: str
    hardware: tuple[str, ...]  # the ids predicted on, in column order
    rows: tuple[Row, ...]
    left_out: tuple[str, ...] = ()  # measurements the run holds no usable value for, and why

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "command": self.command, "label": self.label, "model": self.model,
                "precision": self.precision, "hardware": list(self.hardware),
                "rows": [r.to_dict(self.hardware) for r in self.rows], "left_out": list(self.left_out)}

    def to_rows(self) -> list[dict[str, Any]]:
        out = []
        for r in self.rows:
            row: dict[str, Any] = {"what": r.what, "metric": r.metric, "claim": r.claim, "claimed_s": r.claimed,
                                   "verdict": r.verdict, "measured_s": r.measured}
            for h, p in zip(self.hardware, r.predicted, strict=True):
                row[f"predicted_s[{h}]"] = p
            out.append(row)
        return out


def side_by_side(run: int | Run, model: Ref, hardware: str | Sequence[HardwareRef], *,
                 claims: str | Path | Sequence[str | Path] = (), precision: str | None = None, db: str | None = None,
                 catalog: Catalog | None = None) -> SideBySide:
    """``tcobench compare --measured RUN``: each measurement of the saved ``run`` (an id in the store ``db``, or a
    ``Run``) beside ``model``'s prediction for the same load on each of ``hardware`` (ids or profile files, a comma
    list or a sequence) and, where a claim in ``claims`` (files of ``kind = "measured"`` claims) cites it, the
    claimed number and its verdict. ``precision``: the format predicted in (default: the run's, else bf16)."""
    cat = catalog_or_default(catalog)
    getter = saved_runs(lambda: _store(db))
    saved = run if isinstance(run, Run) else _get(getter, run)
    cites = levels(saved)
    m = model_of(cat, model)
    hws = hardware_list(cat, hardware)
    got: dict[tuple[str, str], Measurement] = {}
    left_out: list[str] = []
    for ref in cites:
        try:
            meas = measurement(ref, "(run)", lambda _: saved)
        except MissingInputError as err:  # e.g. a bench level whose TPOT p50 is 0: nothing to put beside
            left_out.append(str(err).removeprefix("claim.(run).measured: "))
            continue
        got[(meas.where, meas.holds)] = meas
    fmt = (precision or next((x.load.precision for x in got.values() if x.load and x.load.precision), None)
           or str((saved.inputs.get("hardware") or {}).get("precision") or "bf16")).lower()
    claimed = _claims(claims, cat, saved, getter) if claims else {}
    rows = tuple(_row(key, meas, m, hws, fmt, cat, claimed.get(key)) for key, meas in got.items())
    return SideBySide(saved.id or 0, saved.command, saved.label, m.id, fmt, tuple(h.id for h in hws), rows,
                      tuple(left_out))


def _get(getter: Any, run: int) -> Run:
    if isinstance(run, bool) or not isinstance(run, int):
        raise InputError(f"{{measured}} {run!r}: expected a run id (a whole number)", params=("measured",))
    try:
        got: Run = getter(run)
    except InputError as err:
        raise InputError(f"{{measured}} {run}: {err}", params=("measured",)) from err
    return got


def _row(key: tuple[str, str], m: Measurement, model: Model, hws: Sequence[Hardware], fmt: str, cat: Catalog,
         claim: tuple[str, float, str] | None) -> Row:
    predicted: list[float | None] = []
    for hw in hws:
        try:
            predicted.append(None if m.load is None else predict_load(model, hw, m.load, m.holds, precision=fmt,
                                                                       catalog=cat))
        except TcobenchError:  # this chip cannot run the format, or the shape does not fit: no prediction on it
            predicted.append(None)
    what = m.where.split(", ", 1)[-1]
    cid, value, verdict = claim if claim is not None else (None, None, None)
    return Row(what, m.holds, m.raw.value, tuple(predicted), cid, value, verdict)


def _claims(files: str | Path | Sequence[str | Path], cat: Catalog, run: Run,
            getter: Any) -> dict[tuple[str, str], tuple[str, float, str]]:
    """The claims that cite ``run``: (where, metric) -> (claim id, claimed in the run's terms, verdict)."""
    paths = [str(files)] if isinstance(files, str | Path) else [str(f) for f in files]
    chosen = load_claims(paths, cat)
    if chosen.invalid:
        raise InputError(chosen.invalid[0].message, params=("claims",))
    mine: list[Claim] = [c for c in chosen.claims if c.measured is not None and c.measured.run == run.id]
    results = {r.id: r for r in audit_claims(mine, cat, library=load_claims([builtin_dir()], cat).claims,
                                             runs=lambda i: run if i == run.id else getter(i))}
    out = {}
    for c in mine:
        assert c.measured is not None  # chosen above
        r = results[c.id]
        if r.ratio is None:
            continue
        m = measurement(c.measured, c.id, lambda _: run)
        # the claim's number in the run's terms: TPOT for a per-user rate or a decode step's tokens/s (their inverse)
        same = c.measured.metric == m.holds
        out[(m.where, m.holds)] = (c.id, m.raw.value * r.ratio if same else m.raw.value / r.ratio, str(r.verdict))
    return out


__all__ = ["Row", "SideBySide", "side_by_side"]
