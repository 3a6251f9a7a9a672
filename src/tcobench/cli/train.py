"""``tcobench train``: the step, throughput, MFU and memory of training a model, and the time, dollars and energy
to train it on a token budget."""

from __future__ import annotations

from typing import Any

import click

from tcobench import __version__, units
from tcobench.api.training import TrainCompareResult, TrainingResult
from tcobench.api.training import train as api_train
from tcobench.cli.compare import cost_options
from tcobench.cli.context import Context, pass_context
from tcobench.cli.main import error_message
from tcobench.cli.options import COUNT, Choice, Count, Number
from tcobench.cli.render import console, per_s, print_json, table
from tcobench.errors import DeploymentError
from tcobench.perf.training import PARTS, RECOMPUTE
from tcobench.perf.stacks import frameworks
from tcobench.records import Provenance, Run

PART_NAMES = {"forward": "forward", "backward": "backward", "recompute": "recomputation",
              "host_offload": "host offload transfers (exposed)", "tp_comm": "tensor-parallel collectives",
              "ep_comm": "expert all-to-all", "cp_comm": "context-parallel K/V exchange (exposed)",
              "pp_bubble": "pipeline bubble", "pp_send_recv": "pipeline sends (fill, drain)",
              "dp_comm": "data-parallel reduction (exposed)", "optimizer": "optimizer step"}

COMM_NAMES = {"tp_comm": "tensor-parallel all-reduces (or reduce-scatter + all-gather)", "ep_comm": "expert all-to-all",
              "cp_comm": "context-parallel K/V exchange", "pp_send_recv": "pipeline sends",
              "dp_comm": "data-parallel gradient reduction and weight gather"}


@click.command()
@click.option("--model", "model_ref", help="Model id, catalog file, or Hugging Face config.json path (or give --workload).")
@click.option("--workload", help="Instead of --model: a workload known by its FLOPs per sample (bert-large, resnet-50; "
                                  "perf/data/workloads.toml), trained on --samples.")
@click.option("--samples", help="With --workload: samples to train on (sequences, images), e.g. 3e6.")
@click.option("--accumulation", type=COUNT, help="With --workload: micro-batches per replica per step [default: 1, or enough "
                                                  "to keep a pipeline's bubble small].")
@click.option("--eval-samples", default="0", show_default=True,
              help="With --workload: samples evaluated (forward only) during the run, counted in the time.")
@click.option("--imbalance", type=Number(low=1.0),
              help="With --workload and --pp: the slowest stage's share of the layers x pp (1: balanced) [default: 1].")
@click.option("--hardware", "hw_ref", required=True, help="Hardware id or catalog file.")
@click.option("--chips", type=COUNT, required=True, help="Chips in the job.")
@click.option("--tokens", default="1e12", show_default=True, help="Training tokens, e.g. 1e12 or 2_000_000_000_000.")
@click.option("--seq-len", type=COUNT, help="Tokens per sequence [default: 4096, or the model's context if shorter].")
@click.option("--global-batch", type=COUNT, help="Sequences per optimizer step [default: about 4M tokens].")
@click.option("--micro-batch", type=COUNT, help="Sequences per forward pass on a pipeline [default: searched].")
@click.option("--tp", type=COUNT, help="Tensor parallelism (with sequence parallelism) [default: searched].")
@click.option("--pp", type=COUNT, help="Pipeline stages [default: searched].")
@click.option("--dp", type=COUNT, help="Data parallelism [default: chips / (tp x pp x cp)].")
@click.option("--cp", type=COUNT, help="Context parallelism [default: searched].")
@click.option("--ep", type=COUNT, help="Expert parallelism, out of dp x cp (MoE) [default: searched].")
@click.option("--vpp", type=COUNT, help="Virtual pipeline stages per chip (interleaved 1F1B) [default: searched].")
@click.option("--zero", type=Count(0, 3), help="ZeRO stage: 0, 1 (distributed optimizer), 2, 3 (FSDP) [default: searched].")
@click.option("--zero-group", type=COUNT, help="Hybrid sharding: the data-parallel ranks the ZeRO stage shards over (a "
                                                "divisor of dp); the dp / N groups replicate each other, their gradient "
                                                "shards all-reduced between them [default: all of dp].")
@click.option("--recompute", type=Choice(list(RECOMPUTE)), help="Activation recomputation; custom: per tensor, by --remat "
                                                                  "[default: searched among none, selective, full].")
@click.option("--remat", help="With --recompute custom: where each named tensor of a layer lives between the passes, "
                              "NAME=remat|device|offload,... (MaxText's names: decoder_layer_input, query_proj, key_proj, "
                              "value_proj, context, out_proj, mlpwi, mlpwo); unnamed ones are rematerialised, the layer "
                              "input kept on device; offloaded ones cross the chip's host link.")
@click.option("--precision", type=Choice(["bf16", "fp16", "fp8"], case_sensitive=False),
              help="The matmuls' format (fp8: Transformer Engine style, bf16 weights kept) [default: bf16; with --workload "
                   "fp16 on a chip without bf16].")
@click.option("--framework", type=Choice(list(frameworks())), default="megatron", show_default=True,
              help="Training stack: its overlap of communication and its bytes per parameter (perf/data/training.toml).")
@click.option("--layout", type=Choice(["auto", "fixed"]),
              help="auto: search the dimensions not given, and report the cheapest layout on up to --chips too; fixed: "
                   "dimensions not given at 1 (ZeRO-1, selective recomputation) [default: auto unless a dimension is given].")
@click.option("--basis", type=Choice(["own", "rent", "both"]), default="both", show_default=True)
@cost_options
@click.option("--explain", is_flag=True, help="Print one micro-batch's forward pass per operator and the bytes per collective.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--save", is_flag=True, help="Save the prediction to the results store.")
@pass_context
def train(ctx: Context, /, model_ref: str | None, hw_ref: str, workload: str | None, samples: str | None,
          accumulation: int | None, eval_samples: str, explain: bool, as_json: bool, save: bool, **kw: Any) -> None:
    """Training: step time, tokens/s, MFU, memory, and the time, dollars and energy to train (a model on --tokens, or
    a --workload such as resnet-50 on --samples)."""
    cat = ctx.catalog
    imbalance = kw.pop("imbalance", None)
    if workload is not None:
        kw["imbalance"] = imbalance
        from tcobench.cli.train_workload import run_workload

        run_workload(ctx, workload, hw_ref, model_ref=model_ref, samples=samples, accumulation=accumulation,
                     eval_samples=eval_samples, as_json=as_json, save=save, kw=kw)
        return
    if model_ref is None:
        raise click.UsageError("Missing option '--model' (or --workload with --samples).")
    for flag, value in (("--samples", samples), ("--accumulation", accumulation), ("--imbalance", imbalance)):
        if value is not None:
            raise click.UsageError(f"{flag} goes with --workload; a --model trains on --tokens")
    model = cat.model(model_ref, where="--model")
    hw = cat.hardware_ref(hw_ref, where="--hardware")
    kw["precision"] = (kw["precision"] or "bf16").lower()
    try:
        r = api_train(model, hw, catalog=cat, explain=explain, **kw)
    except DeploymentError as err:
        if as_json:
            print_json({"model": model.id, "hardware": hw.id, "chips": kw["chips"], "fits": False, "reason": error_message(err),
                        "memory": {"fits": False}})
        raise
    doc = r.to_dict()
    if save:
        inputs = {"model": model_ref, "hardware": hw_ref, **{k: v for k, v in kw.items() if v is not None}}
        doc["run_id"] = ctx.store.save(Run(command="train", provenance=Provenance.PREDICTED, inputs=inputs,
                                           outputs={k: v for k, v in doc.items()}, tool_version=__version__,
                                           label=f"train {model.id} on {kw['chips']} x {hw.id}"))
    if as_json:
        print_json(doc)
    else:
        render(r, explain)
        if save:
            click.echo(f"saved as run {doc['run_id']}", err=True)
    if not as_json:
        _track_record(ctx, hw.vendor)
    if not r.training.fits:
        closest = r.training.closest
        hint = "" if closest is None else " (the closest layout that fits: " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in closest.items() if k != "dp") + ")"
        raise DeploymentError(f"{model.id} on {kw['chips']} x {hw.id}: {r.training.reason}{hint}")


def _track_record(ctx: Context, vendor: str) -> None:
    """How far to trust this: the training rows of the hardware's vendor in `tcobench validate`."""
    from tcobench.perf import validate_training

    outs = [o for o in validate_training.run(ctx.catalog) if o.error is not None and o.vendor == vendor]
    if not outs:
        console().print(f"track record: no published training result for {vendor or 'this vendor'} in `tcobench validate`; "
                        "unvalidated")
        return
    errs = sorted(o.error for o in outs if o.error is not None)
    console().print(f"track record: on {len(errs)} published {vendor} training results the model is "
                    f"{errs[len(errs) // 2]:+.0%} (median; {errs[0]:+.0%} to {errs[-1]:+.0%}; + = too fast); "
                    "docs/training.md, 'Validation'")


def _layout(t: Any) -> str:
    lay = t.layout
    vpp = f" vpp={lay['vpp']}" if lay["vpp"] > 1 else ""
    zero = "ZeRO-3 (FSDP)" if lay["zero"] == 3 else f"ZeRO-{lay['zero']}"
    if lay.get("zero_group", lay["dp"]) < lay["dp"]:
        zero += f" sharded over {lay['zero_group']} of dp (x{lay['dp'] // lay['zero_group']} replicas)"
    return (f"tp={lay['tp']} pp={lay['pp']}{vpp} cp={lay['cp']} dp={lay['dp']} ep={lay['ep']}, {zero}, "
            f"{'no' if lay['recompute'] == 'none' else lay['recompute']} recomputation"
            + (f" ({lay['remat'] or 'every tensor rematerialised'})" if lay["recompute"] == "custom" else "")
            + f", micro-batch {lay['micro_batch']}")


def _span(s: tuple[float, float, float] | None, fmt: Any) -> str:
    if s is None:
        return "-"
    lo, mid, hi = s
    return f"{fmt(mid)} ({fmt(lo)} – {fmt(hi)})"


def render(r: TrainingResult, explain: bool) -> None:
    out = console()
    t, c = r.training, r.cost
    out.print(f"[bold]{t.model}[/bold] on {t.chips} x {t.hardware}: {_layout(t)}, {t.precision}, {t.framework}")
    out.print(f"global batch {t.global_batch} x {t.seq_len} tokens ({t.microbatches} micro-batch(es) per pipeline per step); "
              + (f"layout searched: fastest of {t.valid:,} valid layouts that fit, of {t.searched:,}" if r.auto and t.searched > 1
                 else "layout as given"))
    mem = t.memory
    rows = [
        ("step time", units.human(t.step_time_s, "s"), f"{t.bubble_share:.1%} pipeline bubble"),
        ("throughput", f"{t.tokens_per_s:,.0f} tok/s", f"{per_s(t.tokens_per_s_per_chip)} tok/s per chip"),
        ("MFU", f"{t.mfu:.1%}", f"HFU {t.hfu:.1%} (with recomputation); peak at {t.precision}"),
        ("time to train", _days(c.time_to_train_s), f"{c.tokens:.3g} tokens, {c.steps:,} steps"),
    ]
    for b, usd in c.usd_to_train.items():
        rows.append((f"$ to train ({b})", _span(usd, _money), c.usd_notes[b]))
    rows.append(("energy", _span(c.energy_kwh, lambda x: f"{x / 1e3:,.1f} MWh" if x >= 1e3 else f"{x:,.1f} kWh"), "IT energy at rated power x utilisation, no PUE"))
    rows.append(("tokens per kWh", _span(c.tokens_per_kwh, lambda x: f"{x:,.3g}"), ""))
    rows.append(("memory per chip", f"{units.human(mem['total_bytes'], 'B')} of {units.human(mem['capacity_bytes'], 'B')}",
                 f"weights {units.human(mem['weights_bytes'], 'B')}, gradients {units.human(mem['grads_bytes'], 'B')}, "
                 f"optimizer {units.human(mem['optimizer_bytes'], 'B')}, activations {units.human(mem['activation_bytes'], 'B')}; "
                 + ("fits" if t.fits else "DOES NOT FIT")))
    out.print(table(None, ["metric", "value", "note"], rows))
    parts = [(PART_NAMES[k], units.human(t.parts[k], "s"), f"{t.parts[k] / t.step_time_s:.1%}") for k in PARTS if t.parts[k] > 0]
    out.print("one step, on the critical path:")
    out.print(table(None, ["part", "time", "share"], parts, justify=["left", "right", "right"]))
    if r.cheapest is not None:
        ct, cc = r.cheapest
        out.print(f"cheapest: {ct.chips} x {t.hardware}, {_layout(ct)}: {_days(cc.time_to_train_s)}, "
                  + ", ".join(f"{b} {_span(u, _money)}" for b, u in cc.usd_to_train.items()) + f" ({r.why_cheapest})")
    elif r.auto and t.fits:
        out.print("cheapest: the same layout (on fewer chips the run costs as much or more)")
    if explain:
        ops = [o for o in t.ops if o.count > 0 and (o.time_s > 0 or o.bound != "communication")]
        total = sum(o.time_s for o in ops) or 1.0
        out.print(f"forward pass of one micro-batch per chip ({t.layout['micro_batch']} x {t.seq_len} tokens / cp, all layers):")
        out.print(table(None, ["op", "count", "time", "share", "FLOPs", "bytes", "bound"],
                        [(o.name, f"{o.count:g}", units.human(o.time_s, "s"), f"{o.time_s / total:.0%}", units.human(o.flops, "FLOP"),
                          units.human(o.bytes, "B"), o.bound) for o in ops],
                        justify=["left", "right", "right", "right", "right", "right", "left"]))
        out.print("bytes per chip per step, by collective:")
        out.print(table(None, ["collective", "bytes"],
                        [(COMM_NAMES[k], units.human(v, "B")) for k, v in t.comm_bytes.items() if v > 0],
                        justify=["left", "right"]))
        out.print("backward = 2 x forward (attention core: 2.5 x), recomputation as chosen; equations: docs/training.md")


def _money(x: float) -> str:
    if x >= 1e6:
        return f"${x / 1e6:,.2f}M"
    if x >= 1e3:
        return f"${x / 1e3:,.1f}k"
    return f"${x:,.2f}"


def _days(seconds: float) -> str:
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:,.1f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:,.1f} min"
    return units.human(seconds, "s")


def render_compare(res: TrainCompareResult) -> None:
    """The table of ``compare --train`` / ``plan --train``: one row per hardware."""
    out = console()
    deadline = f" within {_days(res.deadline_s)}" if res.deadline_s else ""
    goal = "the cheapest run" if res.objective == "cost" else "the run on the fewest chips"
    out.print(f"{res.model}: train {res.tokens:.3g} tokens{deadline}; per hardware {goal} of those on 1, 2, 4, ... chips "
              f"(each with its fastest layout), {res.basis} prices"
              + ("" if res.workers is None else f"; on {res.workers} Dask worker{'s' if res.workers > 1 else ''}"))
    body = []
    for r in res.rows:
        if r.training is None or r.cost is None:
            body.append([r.hardware, "-", "-", "-", "-", "-", "-", r.note])
            continue
        t, c = r.training, r.cost
        usd = c.usd_to_train.get("rent" if res.basis != "own" else "own")
        lay = t.layout
        body.append([r.hardware, f"{t.chips:,}", f"tp{lay['tp']} pp{lay['pp']} dp{lay['dp']}" + (f" cp{lay['cp']}" if lay["cp"] > 1 else ""),
                     f"{t.mfu:.0%}", _days(c.time_to_train_s) + ("" if r.meets_deadline else " (late)"), _span(usd, _money),
                     _span(c.energy_kwh, lambda x: f"{x / 1e3:,.0f} MWh" if x >= 1e3 else f"{x:,.0f} kWh"), r.note])
    out.print(table(None, ["hardware", "chips", "layout", "MFU", "time", "$ to train", "energy", "note"], body,
                    justify=["left", "right", "left", "right", "right", "right", "right", "left"]))
