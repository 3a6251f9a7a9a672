"""Speed of a design-space sweep (``sweep --vary``): configurations per second when every variant of a design is
derived, priced and then searched in one vectorised pass, against the baseline in the same process: the same
variants, each derived, priced and swept on its own (what a script calling ``sweep`` once per design point does,
without the process starts). Both cover the same grid; their best points are checked equal. Best of --repeat.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/design_sweep.py [--sram 100MB,...] [--clock 0.8GHz,1GHz,1.2GHz]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

from tcobench.api.inputs import own_parameters  # noqa: E402
from tcobench.catalog import Catalog, load_catalog  # noqa: E402
from tcobench.cost import price_hardware  # noqa: E402
from tcobench.search import candidates  # noqa: E402
from tcobench.search.sweep import AXES, parse_axis, sweep  # noqa: E402
from tcobench.silicon.variants import variants  # noqa: E402


def _price(cat: Catalog, hw: object) -> float:
    span, _ = price_hardware(hw, cat, own_parameters(cat), "own").span("own")  # type: ignore[arg-type]
    return float(span.likely) if span is not None else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="gpt-3-175b")
    ap.add_argument("--design", default="chiplet-cloud-die")
    ap.add_argument("--sram", default="100MB,200MB,300MB,400MB,500MB,600MB,700MB,800MB,900MB")
    ap.add_argument("--clock", default="0.8GHz,1GHz,1.2GHz")
    ap.add_argument("--tp", default="1,2,4,8,16,32")
    ap.add_argument("--pp", default="16,32,64,96")
    ap.add_argument("--batch", default="1:1024:x2")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cat = load_catalog()
    model, design = cat.get_model(args.model), cat.designs[args.design]
    vary = {"sram": args.sram.split(","), "clock": args.clock.split(",")}
    axes = {a: parse_axis(v, a) for a, v in zip(AXES, (args.tp, args.pp, "1", args.batch, "1000", "1000"), strict=True)}

    def one_pass() -> tuple[int, float]:
        made = variants(design, cat, vary)
        cands = candidates([d.hardware for d in made.derived], ["bf16"])
        res = sweep(model, cands, axes, catalog=cat, usd_per_chip_s=[_price(cat, c.hardware) for c in cands], top_k=1)
        return res.evaluated, float(res.top["usd_per_1m_output_tokens"][0])

    def per_variant() -> tuple[int, float]:
        evaluated, best = 0, float("inf")
        for sram in vary["sram"]:
            for clock in vary["clock"]:
                made = variants(design, cat, {"sram": [sram], "clock": [clock]})
                if not made.derived:
                    continue
                cands = candidates([made.derived[0].hardware], ["bf16"])
                res = sweep(model, cands, axes, catalog=cat, usd_per_chip_s=[_price(cat, cands[0].hardware)], top_k=1)
                evaluated += res.evaluated
                if res.top.get("usd_per_1m_output_tokens") is not None and res.top["usd_per_1m_output_tokens"].size:
                    best = min(best, float(res.top["usd_per_1m_output_tokens"][0]))  # a variant may serve nowhere
        return evaluated, best

    def timed(fn: Callable[[], tuple[int, float]]) -> tuple[float, int, float]:
        best_s, out = float("inf"), (0, 0.0)
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = fn()
            best_s = min(best_s, time.perf_counter() - t)
        return best_s, *out

    def derive_only() -> tuple[int, float]:
        made = variants(design, cat, vary)
        return len(made.derived), sum(_price(cat, d.hardware) for d in made.derived)

    one_pass()  # warm imports and caches for both
    derive_s, _, _ = timed(derive_only)
    base_s, base_n, base_best = timed(per_variant)
    vec_s, vec_n, vec_best = timed(one_pass)
    assert base_n == vec_n and abs(base_best - vec_best) <= 1e-9 * abs(vec_best), (base_n, vec_n, base_best, vec_best)
    n_variants = len(vary["sram"]) * len(vary["clock"])
    print(f"{args.model} x {args.design}: {n_variants} variants (sram x clock), {vec_n:,} configurations; "
          f"best ${vec_best:,.2f} per 1M output tokens (own) in both")
    print(f"  deriving and pricing the {n_variants} variants alone: {derive_s:.3f} s (in both)")
    print(f"  baseline, one derive + sweep per variant: {base_s:.3f} s, {base_n / base_s:,.0f} configurations/s")
    print(f"  sweep --vary, one vectorised pass:        {vec_s:.3f} s, {vec_n / vec_s:,.0f} configurations/s "
          f"({base_s / vec_s:.2f}x the baseline)")


if __name__ == "__main__":
    main()
