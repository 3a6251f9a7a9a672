"""Training: time to train against dollars to train per hardware, and scaling efficiency against chips.

From ``compare --train --save`` runs (a ``compare`` run whose inputs say ``workload = "training"``): one point per
hardware, its cheapest run that meets the deadline, and per hardware the scaling curve the comparison stored
(``scaling``: every chip count that fits, each with its fastest layout). From ``train --save`` runs: one point per
run, and a scaling curve wherever runs of one model and hardware were saved at several chip counts.

Scaling efficiency = tokens/s per chip at N chips / tokens/s per chip at the fewest chips shown: 1.0 is linear
scaling. Each chip count has its own fastest layout and (unless fixed) its own global batch, so it can exceed 1.0
slightly where a larger job finds a better layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tcobench.catalog import Catalog
from tcobench.records import Run
from tcobench.report import words
from tcobench.report.charts import LoadChart, Series, Span, TrainCostChart, TrainPoint, slug
from tcobench.report.document import Part, Section
from tcobench.report.tables import Table


def is_training(run: Run) -> bool:
    """A run this section shows (and the inference sections leave alone)."""
    return run.command == "train" or (run.command == "compare" and run.inputs.get("workload") == "training")


def build(runs: Sequence[Run], catalog: Catalog) -> Section | None:
    parts = [compare_part(r) for r in runs if r.command == "compare" and is_training(r) and r.outputs.get("rows")]
    trains = [r for r in runs if r.command == "train" and r.outputs.get("step_time_s") is not None]
    if trains:
        parts.append(train_part(trains))
    return Section("training", "Training: time, cost and scaling", tuple(parts)) if parts else None


def _basis(inputs: dict[str, Any]) -> str:
    return "own" if inputs.get("basis") == "own" else "rent"


def _span(v: Sequence[float] | None) -> Span | None:
    return None if not v else Span(float(v[0]), float(v[1]), float(v[2]))


def days(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 86400:,.1f} days" if seconds >= 2 * 86400 else words.seconds(seconds)


def _layout(lay: dict[str, Any] | None) -> str:
    """'tp2 pp8 dp4, ZeRO-1, mb 1, none recompute' for an LLM; what a FLOPs-per-sample run's layout holds otherwise."""
    if not lay:
        return "–"
    dims = " ".join(f"{k}{lay[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp")
                    if k in lay and (k in ("tp", "pp", "dp") or lay[k] > 1))
    rest = [f"ZeRO-{lay['zero']}" if "zero" in lay else "", f"mb {lay['micro_batch']}" if "micro_batch" in lay else "",
            f"{lay['recompute']} recompute" if lay.get("recompute") else ""]
    return ", ".join(x for x in (dims, *rest) if x)


def _name(o: dict[str, Any]) -> str:
    """A saved train run's model, or its workload (``train --workload``: BERT-large, ResNet-50)."""
    return str(o.get("model") or o.get("workload") or "?")


def _per_chip(o: dict[str, Any]) -> float:
    """Tokens (or, for a FLOPs-per-sample workload, samples) per second per chip."""
    return float(o.get("tokens_per_s_per_chip") or o.get("samples_per_s_per_chip") or 0.0)


def _kwh(v: Sequence[float] | None) -> str:
    if not v:
        return "–"
    return f"{v[1] / 1e3:,.1f} MWh" if v[1] >= 1e3 else f"{v[1]:,.0f} kWh"


def compare_part(run: Run) -> Part:
    i, rows = run.inputs, run.outputs["rows"]
    basis = _basis(i)
    ran = [r for r in rows if r.get("chips") is not None]
    points = [TrainPoint(r["hardware"], r["time_to_train_s"], s) for r in ran
              for s in [_span((r.get("usd_to_train") or {}).get(basis))] if s is not None]
    charts: list[Any] = []
    if points:
        charts.append(TrainCostChart(slug("training", "run", run.id), f"Time vs $ to train, {i.get('model', '')}", basis,
                                     tuple(points)))
    curves = [Series(r["hardware"], tuple(float(p["chips"]) for p in r["scaling"]),
                     tuple(float(p["scaling_efficiency"]) for p in r["scaling"]))
              for r in rows if len(r.get("scaling") or ()) >= 2]
    if curves:
        charts.append(LoadChart(slug("training-scaling", "run", run.id), f"Scaling efficiency, {i.get('model', '')}", "chips",
                                "tokens/s per chip vs the fewest chips", tuple(curves)))
    main = Table(f"Per hardware, the cheapest run ({basis} prices) that trains {i.get('tokens', 0):.3g} tokens"
                 + (f" within {days(i.get('deadline_s'))}" if i.get("deadline_s") else ""),
                 ("hardware", "chips", "layout", "MFU", "time to train", f"$ to train ({basis})", "energy", "note"),
                 tuple((r["hardware"], f"{r['chips']:,}" if r.get("chips") else "–", _layout(r.get("layout")),
                        words.percent(r.get("mfu")), days(r.get("time_to_train_s")) + ("" if r.get("meets_deadline") else " (late)"),
                        _money_span((r.get("usd_to_train") or {}).get(basis)), _kwh(r.get("energy_kwh")), r.get("note") or "")
                       for r in rows),
                 numeric=(1, 3, 4, 5, 6))
    tables = [main]
    scaled = [r for r in rows if r.get("scaling")]
    if scaled:
        tables.append(Table("Scaling: from the fewest chips that fit to the most tried",
                            ("hardware", "chips", "tokens/s", "MFU", "scaling efficiency"),
                            tuple((r["hardware"], f"{p['chips']:,}", words.rate(p["tokens_per_s"]), words.percent(p["mfu"]),
                                   words.percent(p["scaling_efficiency"]))
                                  for r in scaled for p in (r["scaling"][0], r["scaling"][-1])),
                            numeric=(1, 2, 3, 4)))
    title = f"{i.get('model', '?')}: train {i.get('tokens', 0):.3g} tokens — run {run.id}"
    return Part(title, compare_reading(run, ran, basis, curves), tuple(charts), tuple(tables))


def _money_span(v: Sequence[float] | None) -> str:
    return "–" if not v else words.span(v[1], v[0], v[2])


def compare_reading(run: Run, ran: list[dict[str, Any]], basis: str, curves: list[Series]) -> str:
    i = run.inputs
    deadline = f" within {days(i['deadline_s'])}" if i.get("deadline_s") else ""
    text = (f"To train {i.get('model', 'this model')} on {i.get('tokens', 0):.3g} tokens{deadline}, tcobench tried each "
            f"hardware on 1, 2, 4, ... chips, each with its fastest layout, and kept the cheapest run on {basis} prices. ")
    priced = [r for r in ran if (r.get("usd_to_train") or {}).get(basis) and r.get("meets_deadline")]
    if priced:
        best = min(priced, key=lambda r: r["usd_to_train"][basis][1])
        fast = min(ran, key=lambda r: r["time_to_train_s"])
        text += (f"The cheapest is {best['hardware']} on {best['chips']:,} chips: "
                 f"{_money_span(best['usd_to_train'][basis])} in {days(best['time_to_train_s'])}. ")
        if fast is not best:
            text += f"The fastest, {fast['hardware']} on {fast['chips']:,} chips, takes {days(fast['time_to_train_s'])}. "
    else:
        text += "No run that meets the deadline has a price on this basis. "
    late = [r["hardware"] for r in ran if not r.get("meets_deadline")]
    if late:
        text += f"{words.listing(late)} miss{'es' if len(late) == 1 else ''} the deadline on every chip count tried. "
    if curves:
        worst = min(curves, key=lambda s: s.y[-1])
        text += (f"Scaling efficiency is tokens/s per chip against the fewest chips that fit (1.0: linear); at its most chips "
                 f"{worst.label} keeps the least, {words.percent(worst.y[-1])} at {worst.x[-1]:,.0f} chips. ")
    return text + "Dollar ranges come from the uncertain inputs (prices, power, utilisation), not from noise."


def train_part(runs: list[Run]) -> Part:
    outs = [(r, r.outputs) for r in runs]
    basis = "rent" if all(((o.get("usd_to_train") or {}).get("rent")) for _, o in outs) else "own"
    many = len({o["hardware"] for _, o in outs}) < len(outs)

    def label(o: dict[str, Any]) -> str:
        return f"{o['hardware']} × {o['chips']:,}" if many else str(o["hardware"])

    points = tuple(TrainPoint(label(o), o["time_to_train_s"], s) for _, o in outs
                   for s in [_span((o.get("usd_to_train") or {}).get(basis))] if s is not None and o.get("time_to_train_s"))
    charts: list[Any] = []
    if points:
        charts.append(TrainCostChart(slug("training", "runs", *(r.id for r in runs)), f"Time vs $ to train, {len(outs)} saved runs",
                                     basis, points))
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for _, o in outs:
        if o.get("fits") is not False:  # None: memory not modelled (a FLOPs-per-sample workload)
            groups.setdefault((_name(o), o["hardware"], o["precision"]), []).append(o)
    curves = []
    for (model, hw, prec), os_ in groups.items():
        os_ = sorted(os_, key=lambda o: o["chips"])
        if len({o["chips"] for o in os_}) >= 2 and _per_chip(os_[0]) > 0:
            base = _per_chip(os_[0])
            curves.append(Series(f"{model} on {hw} ({prec})", tuple(float(o["chips"]) for o in os_),
                                 tuple(_per_chip(o) / base for o in os_)))
    if curves:
        charts.append(LoadChart(slug("training-scaling", "runs", *(r.id for r in runs)), "Scaling efficiency of the saved runs",
                                "chips", "tokens/s per chip vs the fewest chips", tuple(curves)))
    table = Table("Saved training runs (tcobench train --save)",
                  ("run", "model or workload", "hardware", "chips", "layout", "MFU", "time to train", "$ to train (own)", "$ to train (rent)",
                   "energy"),
                  tuple((str(r.id), _name(o), o["hardware"], f"{o['chips']:,}", _layout(o.get("layout")), words.percent(o.get("mfu")),
                         days(o.get("time_to_train_s")), _money_span((o.get("usd_to_train") or {}).get("own")),
                         _money_span((o.get("usd_to_train") or {}).get("rent")), _kwh(o.get("energy_kwh")))
                        for r, o in outs),
                  numeric=(3, 5, 6, 7, 8, 9))
    reading = (f"{words.plural(len(outs), 'saved training run')}, each on its own layout; the chart puts time to train "
               f"against dollars to train on {basis} prices. ")
    if curves:
        reading += ("Where one model and hardware were saved at several chip counts, the second chart shows tokens (or "
                    "samples)/s per chip against the fewest chips saved (1.0: linear scaling). ")
    unfit = [str(r.id) for r, o in outs if o.get("fits") is False]
    if unfit:
        reading += f"Run{'s' if len(unfit) > 1 else ''} {words.listing(unfit)} do{'es' if len(unfit) == 1 else ''} not fit in memory. "
    return Part("Saved training runs", reading.strip(), tuple(charts), (table,))
