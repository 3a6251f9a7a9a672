"""``tcobench predict``: one deployment through the performance model, with --explain per operator."""

from __future__ import annotations

from typing import Any

import click

from tcobench import __version__, checks, units
from tcobench.api.confidence import trust_for
from tcobench.api.inputs import hardware_of
from tcobench.cli.context import Context, pass_context
from tcobench.cli.main import error_message
from tcobench.cli.options import COUNT, DURATION, INT_LIST, Choice, Count, Number
from tcobench.cli.render import console, per_s, print_json, print_trust, table
from tcobench.errors import DeploymentError, InputError, quote
from tcobench.perf import predict as run_predict
from tcobench.perf.finite import finite_run
from tcobench.perf.precision import BYTES
from tcobench.perf.predict import DEFAULT_MAX_SEQS
from tcobench.perf.serving import ServingResult
from tcobench.api.inputs import traffic_of
from tcobench.records import Provenance, Run

PRECISIONS = Choice(list(BYTES), case_sensitive=False)


def parse_batch(value: str) -> int | str:
    """'auto', or a whole number of sequences from 1 to checks.MAX_COUNT."""
    if value.strip() == "auto":
        return "auto"
    if not value.strip().isascii() or not value.strip().isdigit():
        raise InputError(f"--batch {quote(value)}: expected a positive integer or 'auto'")
    return checks.parse_count(value, "--batch")


@click.command()
@click.option("--model", "model_ref", required=True, help="Model id, catalog file, or Hugging Face config.json path.")
@click.option("--hardware", "hw_ref", required=True, help="Hardware id, catalog file (a hypothetical chip), or design file or id (a chip described by its silicon).")
@click.option("--chips", type=COUNT, help="Chips in the deployment [default: tp x pp x ep].")
@click.option("--tp", type=COUNT, default=1, show_default=True, help="Tensor parallelism.")
@click.option("--tp-layout", type=Choice(["1d", "2d"]), default="1d", show_default=True,
              help="1d: Megatron-style tensor parallelism; 2d: weight-stationary over x * yz chips with batch-sharded "
                   "decode attention (Pope et al. 2022; TPU-style, for dense models).")
@click.option("--pp", type=COUNT, default=1, show_default=True, help="Pipeline parallelism.")
@click.option("--ep", type=COUNT, default=1, show_default=True,
              help="Attention groups per stage (data-parallel attention), the routed experts split over them (MoE).")
@click.option("--moe-ep", type=COUNT,
              help="Split the routed experts over this many of a stage's tp x ep chips instead (TensorRT-LLM's --tp 8 "
                   "--ep 8 on 8 GPUs is --tp 8 --moe-ep 8) [default: --ep].")
@click.option("--redundant-experts", type=int, default=0, show_default=True,
              help="Replicas of routed experts beyond the model's own, over the same chips (EPLB; SGLang's "
                   "--ep-num-redundant-experts): DeepSeek-V3's 256 + 32 over --ep 72.")
@click.option("--batch", default="1", show_default=True, help="Concurrent sequences per replica, or 'auto'.")
@click.option("--input-len", type=COUNT, default=1024, show_default=True)
@click.option("--output-len", type=COUNT, default=256, show_default=True)
@click.option("--precision", type=PRECISIONS, default="bf16", show_default=True, help="Default for weights, KV and activations.")
@click.option("--weights", type=PRECISIONS, help="Weight precision [default: --precision].")
@click.option("--kv", type=PRECISIONS, help="KV-cache precision [default: --precision].")
@click.option("--activations", type=PRECISIONS, help="Activation precision (sets the peak used) [default: --precision].")
@click.option("--slo-ttft", type=DURATION, help="With --batch auto: largest TTFT allowed, e.g. 500ms.")
@click.option("--slo-tpot", type=DURATION, help="With --batch auto: largest TPOT allowed, e.g. 50ms.")
@click.option("--runtime", help="Serving stack from the catalog (how its kernels read the KV cache) [default: default].")
@click.option("--max-context", type=COUNT,
              help="Model input + output up to this many tokens, past the model's own context (engines run past it) "
                   "[default: the model's].")
@click.option("--cuda-graph-batches", "graph_batches", type=INT_LIST,
              help="Decode steps replay CUDA graphs captured at these batch sizes, the running batch padded up to the next "
                   "(TensorRT-LLM's cuda_graph_config with enable_padding) [default: no padding].")
@click.option("--spec-tokens", type=Count(0), default=0, show_default=True,
              help="Speculative decoding: draft tokens per step (with --acceptance).")
@click.option("--acceptance", type=Number(0, 1),
              help="With --spec-tokens: the probability a draft token is accepted (depends on model, draft and text).")
@click.option("--draft", metavar="mtp|ID|config.json",
              help="With --spec-tokens: the draft model on the same chips, or 'mtp' for multi-token-prediction layers "
                   "[default: mtp].")
@click.option("--requests", type=COUNT,
              help="A finite offline run: this many requests queued at once, served in waves of at most --batch per "
                   "replica (with --batch auto: as many as fit); prints the run's time and throughput. With --rate, "
                   "--concurrency or a trace: the requests simulated [default: 1000].")
@click.option("--rate", type=Number(0.0, low_open=True),
              help="Under load: requests/s arriving by --arrivals; simulates serving step by step and prints TTFT, TPOT, "
                   "ITL and E2E percentiles, throughput and goodput (docs/serving.md).")
@click.option("--concurrency", type=COUNT,
              help="Under load: this many users in a closed loop, each sending when its last request finishes.")
@click.option("--arrivals", metavar="poisson|constant|gamma:CV|FILE",
              help="With --rate: the arrival process [default: poisson]; or a trace file of lines time_s,input_tokens,"
                   "output_tokens (then without --rate).")
@click.option("--input-dist", metavar="N|LO..HI|normal:MEAN:SD",
              help="Under load: each simulated request's prompt length drawn from this distribution (bench's "
                   "--input-len syntax) [default: --input-len for all].")
@click.option("--output-dist", metavar="N|LO..HI|normal:MEAN:SD",
              help="Under load: each simulated request's output length drawn from this distribution "
                   "[default: --output-len for all].")
@click.option("--prefix-share", type=Number(0.0, 1.0, high_open=True),
              help="Under load: every prompt starts with one shared prefix (a system prompt) of this share of the mean "
                   "prompt, which prefix caching computes once (vLLM's default) [default: 0].")
@click.option("--seed", type=Count(0), default=0, show_default=True, help="Seed of the simulated arrivals.")
@click.option("--slo-e2e", type=DURATION, help="Under load: largest E2E allowed for goodput, e.g. 10s.")
@click.option("--max-seqs", type=COUNT, default=DEFAULT_MAX_SEQS, show_default=True,
              help="Under load: sequences a replica runs at once (vLLM's --max-num-seqs).")
@click.option("--max-batched-tokens", type=Count(1, 1 << 20),
              help="Under load: tokens per engine step, prompt chunks included (vLLM's --max-num-batched-tokens) "
                   "[default: the efficiency data's prefill chunk].")
@click.option("--preemption", "preempt", is_flag=True,
              help="Under load: admit a request when its prompt fits and preempt (recompute) the newest when the KV cache "
                   "is full, as vLLM does [default: admit only when its whole context fits].")
@click.option("--explain", is_flag=True, help="Print the per-operator breakdown (time, FLOPs, bytes, bound).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--save", is_flag=True, help="Save the prediction to the results store.")
@pass_context
def predict(ctx: Context, /, model_ref: str, hw_ref: str, batch: str, requests: int | None, explain: bool, as_json: bool,
            save: bool, **kw: Any) -> None:
    """Predict TTFT, TPOT, throughput, MFU/MBU and memory for one deployment."""
    cat = ctx.catalog
    model = cat.model(model_ref, where="--model")
    hw = hardware_of(cat, hw_ref)
    draft = kw.pop("draft")
    kw["draft"] = draft if draft in (None, "mtp") else cat.model(draft, where="--draft")
    run = None
    load = {k: kw.pop(k) for k in ("rate", "concurrency", "arrivals", "seed", "slo_e2e", "max_seqs", "max_batched_tokens",
                                   "preempt", "input_dist", "output_dist", "prefix_share")}
    shaped = {k: load[k] for k in ("input_dist", "output_dist", "prefix_share")}
    under_load = (load["rate"] is not None or load["concurrency"] is not None or load["arrivals"] is not None
                  or any(v is not None for v in shaped.values()))
    try:
        if under_load:
            traffic = traffic_of(load["rate"], load["concurrency"], requests, load["arrivals"], kw["input_len"],
                                 kw["output_len"], load["seed"], **shaped)
            p = run_predict(model, hw, batch=parse_batch(batch), catalog=cat, explain=explain, traffic=traffic,
                            slo_e2e=load["slo_e2e"], max_seqs=load["max_seqs"],
                            max_batched_tokens=load["max_batched_tokens"], preempt=load["preempt"], **kw)
        elif requests:
            size = parse_batch(batch)
            run = finite_run(model, hw, requests=requests, max_batch=None if size == "auto" else int(size), catalog=cat, **kw)
            p = run_predict(model, hw, batch=run.wave, catalog=cat, explain=explain, **kw) if explain else run.full
        else:
            p = run_predict(model, hw, batch=parse_batch(batch), catalog=cat, explain=explain, **kw)
    except DeploymentError as err:
        if as_json:  # the deployment is impossible: say so in the document too, with no metric to misread
            print_json(impossible(model.id, hw.id, batch, requests, kw, error_message(err)))
        raise
    doc = p.to_dict()
    if run is not None:
        doc["run"] = run.to_dict()
    confidence = trust_for(hw, model, catalog=cat)
    doc["validation"] = confidence.to_dict()
    if save:
        inputs = {"model": model_ref, "hardware": hw_ref, "batch": batch, "requests": requests,
                  **{k: v for k, v in kw.items() if v is not None}}
        outputs = {k: v for k, v in doc.items() if k != "run_id"}
        doc["run_id"] = ctx.store.save(Run(command="predict", provenance=Provenance.PREDICTED, inputs=inputs, outputs=outputs,
                                           tool_version=__version__, label=f"{model.id} on {hw.id}"))
    if as_json:
        if explain:
            doc["ops"] = [o.__dict__ for o in p.ops]
        print_json(doc)
        return
    render(p, explain)
    if p.serving is not None:
        render_serving(p.serving)
    if run is not None and not run.fits:
        console().print(f"run of {run.requests:,} requests: not feasible ({run.reason})")
    elif run is not None:
        waves = f"{run.full_waves} wave(s) of {run.wave}" + (f" and one of {run.remainder}" if run.remainder else "")
        console().print(f"run of {run.requests:,} requests: {waves} per replica, {units.human(run.run_s, 's')}, "
                        f"{run.output_tokens_per_s:,.0f} output tok/s ({per_s(run.output_tokens_per_s_per_chip)} per chip)")
    print_trust(confidence)
    if save:
        click.echo(f"saved as run {doc['run_id']}", err=True)


def impossible(model: str, hardware: str, batch: str, requests: int | None, kw: dict[str, Any], reason: str) -> dict[str, Any]:
    """The --json document of a deployment that cannot run (a layout the model does not split into, chips not a
    multiple of the replica, lengths past the context): the inputs as given, ``fits: false`` and the reason."""
    tp, pp, ep, precision = kw["tp"], kw["pp"], kw["ep"], kw["precision"]
    return {"model": model, "hardware": hardware, "chips": kw["chips"] or tp * pp * ep, "tp": tp, "pp": pp, "ep": ep,
            "tp_layout": kw["tp_layout"], "batch": parse_batch(batch), **({"requests": requests} if requests else {}),
            "input_len": kw["input_len"], "output_len": kw["output_len"], "precision": precision,
            **{k: kw[k] or precision for k in ("weights", "kv", "activations")}, "runtime": kw["runtime"] or "default",
            "fits": False, "reason": reason, "memory": {"fits": False}}


def render(p, explain: bool) -> None:  # type: ignore[no-untyped-def]
    out = console()
    prec = p.precision if p.weights == p.kv == p.activations == p.precision else f"weights {p.weights}, kv {p.kv}, activations {p.activations}"
    tp = f"tp={p.tp} (2d)" if p.tp_layout == "2d" else f"tp={p.tp}"
    moe = (f" moe_ep={p.moe_ep}" if p.moe_ep is not None else "") + (f" redundant_experts={p.redundant_experts}"
                                                                   if p.redundant_experts else "")
    out.print(f"[bold]{p.model}[/bold] on {p.chips} x {p.hardware}: {tp} pp={p.pp} ep={p.ep}{moe}, {p.replicas} replica(s), "
              f"batch {p.batch} per replica, {p.input_len} in / {p.output_len} out, {prec}"
              + (f", runtime {p.runtime}" if p.runtime != "default" else "")
              + (f", speculative: {p.speculative['spec_tokens']} drafts ({p.speculative['draft']}) accepted at "
                 f"{p.speculative['acceptance']:.0%}, {p.speculative['tokens_per_step']:.2f} tokens per step"
                 if p.speculative else ""))
    rows = [
        ("TTFT", units.human(p.ttft_s, "s"), f"prefill {p.bound_prefill}-bound, MFU {p.mfu_prefill:.1%}"),
        ("TPOT", units.human(p.tpot_s, "s"), f"decode {p.bound_decode}-bound, MFU {p.mfu_decode:.1%}, MBU {p.mbu_decode:.1%}"
         + (f" (on-chip); weight stream {p.mbu_stream_decode:.1%} of the external I/O" if p.mbu_stream_decode is not None
            else "")),
        ("E2E", units.human(p.e2e_s, "s"), ""),
        ("interactivity", f"{p.interactivity_tokens_per_s:,.1f} tok/s/user", ""),
        ("output throughput", f"{p.output_tokens_per_s:,.0f} tok/s", f"{per_s(p.output_tokens_per_s_per_chip)} tok/s per chip"),
        ("prefill throughput", f"{p.prefill_tokens_per_s:,.0f} tok/s", ""),
        ("memory per chip", f"{units.human(p.weights_bytes + p.kv_cache_bytes + p.activation_bytes, 'B')} of {units.human(p.capacity_bytes, 'B')}",
         f"weights {units.human(p.weights_bytes, 'B')}, KV {units.human(p.kv_cache_bytes, 'B')}, "
         f"activations {units.human(p.activation_bytes, 'B')}; {'fits' if p.fits else 'DOES NOT FIT'}; "
         f"largest batch that fits: {p.max_batch}"
         + ("; weights streamed from external memory each pass (held: 2 layers)" if p.weights_streamed else "")),
    ]
    if p.graph_batch is not None and p.graph_batch != p.batch and p.graphed_share:
        rows.insert(2, ("CUDA graphs", f"batch {p.graph_batch}", f"{p.graphed_share:.0%} of decode steps run padded from "
                        f"{p.batch} to {p.graph_batch} (no prompt beside them); TPOT is the mean step"))
    out.print(table(None, ["metric", "value", "note"], rows))
    if p.reason:
        out.print(f"[bold red]not feasible:[/bold red] {p.reason}")
    if explain:
        for phase in ("prefill", "decode"):
            ops = [o for o in p.ops if o.phase == phase and o.count > 0]
            total = sum(o.time_s for o in ops) or 1.0
            title = f"{phase} per chip ({'one request of ' + str(p.input_len) + ' tokens' if phase == 'prefill' else 'one step at batch ' + str(p.batch)})"
            out.print(table(title, ["op", "count", "time", "share", "FLOPs", "bytes", "intensity", "bound"],
                            [(o.name, f"{o.count:g}", units.human(o.time_s, "s"), f"{o.time_s / total:.0%}", units.human(o.flops, "FLOP"),
                              units.human(o.bytes, "B"), f"{o.flops / o.bytes:.1f}" if o.bytes else "", o.bound) for o in ops],
                            justify=["left", "right", "right", "right", "right", "right", "right", "left"]))
        if p.rates:
            out.print("tensor-core rates: " + ", ".join(f"{k} at {v}" for k, v in p.rates.items())
                      + " (why: docs/model.md, 'Operators' and 'Runtimes')")
        out.print("efficiency factors used: " + _factors(p.efficiency))
        out.print("efficiency factors from: " + "; ".join(f"{k} from {v}" for k, v in p.efficiency_sources.items()))


def render_serving(s: ServingResult) -> None:
    """The simulated run under load: percentiles per metric, then rates, SLOs and whether the queue keeps up."""
    out = console()
    per = f" per replica x {s.replicas}" if s.replicas > 1 else ""
    out.print(f"[bold]under load[/bold]: {s.traffic}, {s.requests:,} requests simulated; scheduler: {s.max_tokens:,} "
              f"tokens/step, {s.max_seqs} sequences, KV cache {s.kv_tokens:,.0f} tokens{per}")
    rows = [(name, *(units.human(d[k], "s") if k in d else "" for k in ("p50", "p90", "p99", "mean")))
            for name, d in (("TTFT", s.ttft_s), ("TPOT", s.tpot_s), ("ITL", s.itl_s), ("E2E", s.e2e_s),
                            ("queue (before admission)", s.queue_s))]
    out.print(table(None, ["metric", "p50", "p90", "p99", "mean"], rows, justify=["left", "right", "right", "right", "right"]))
    out.print(f"throughput {s.output_tokens_per_s:,.0f} output tok/s, {s.input_tokens_per_s:,.0f} input tok/s, "
              f"{s.requests_per_s:,.2f} requests/s over a {s.window_s:,.1f} s steady-state window; "
              f"{s.mean_running:,.1f} sequences decoding per step on average"
              + (f"; {s.preemptions:,} preemptions (recomputed)" if s.preemptions else "")
              + (f"; {s.prefix_cache_hit:.1%} of prompt tokens from the prefix cache" if s.prefix_cache_hit else ""))
    if s.slo.given:
        slos = ", ".join(f"{k} <= {units.human(v, 's')}" for k, v in (("TTFT", s.slo.ttft), ("TPOT", s.slo.tpot),
                                                                     ("E2E", s.slo.e2e)) if v is not None)
        out.print(f"goodput ({slos}): {s.goodput_requests_per_s or 0:,.2f} requests/s, {s.goodput_tokens_per_s or 0:,.0f} "
                  f"tok/s; {s.slo_met or 0:.1%} of requests meet every SLO"
                  + (f"; first miss: the request sent at {units.human(s.first_slo_miss_s, 's')}"
                     if s.first_slo_miss_s is not None else ""))
    if s.saturated:
        out.print(f"[bold red]saturated:[/bold red] the queue grows without bound, by {s.queue_growth_per_s:,.2f} requests/s; "
                  "the percentiles are of this run's length only and grow with it")
    for note in s.notes:
        out.print(f"note: {note}")


def _factors(e: dict[str, Any]) -> str:
    """One line: compute and weight-streaming fractions per operator class, then the chip-wide figures."""
    parts = []
    for part, label in (("matmuls", "matmuls"), ("attention", "attention"), ("lm_head", "LM head")):
        if part in e:
            f = e[part]
            parts.append(f"{label} ({f['precision']}): compute {f['compute']:g}"
                         + (f", weight streaming {f['weight_streaming']:g}" if "weight_streaming" in f else ""))
    if "grouped_gemm" in e:
        g = e["grouped_gemm"]
        parts.append(f"MoE expert GEMMs: -{g['loss_per_halving']:g} of that rate per halving below "
                     f"{g['full_tokens_per_expert']:g} tokens per expert (held at {g['least_tokens_per_expert']:g})")
    eager = f" ({units.human(e['eager_overhead_s'], 's')} in a prefill, launched eagerly)" if "eager_overhead_s" in e else ""
    parts.append(f"other memory reads {e['memory']:g}; {units.human(e['overhead_s'], 's')} per operator{eager}, "
                 f"{units.human(e['collective_latency_s'], 's')} per collective step"
                 + (f" at {e['collective_bandwidth']:g} of the scale-up link's bandwidth" if "collective_bandwidth" in e else ""))
    return "; ".join(parts)
