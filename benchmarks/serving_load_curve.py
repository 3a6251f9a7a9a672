"""Latency against load: one deployment's simulated TTFT, TPOT and goodput at a list of Poisson rates.

Each rate is one ``tcobench.predict(..., rate=R)`` call (the serving simulation of docs/serving.md); the table is
the curve a buyer reads off: where TTFT p99 leaves the SLO, and where the queue stops keeping up.

    .venv/bin/python benchmarks/serving_load_curve.py [--model llama-3.1-70b --hardware h100-sxm --tp 4 --precision fp8]
        [--rates 2,4,6,8,10,12,14,16] [--requests 5000] [--slo-ttft 500ms --slo-tpot 50ms]
"""

from __future__ import annotations

import argparse

import tcobench


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="llama-3.1-70b")
    ap.add_argument("--hardware", default="h100-sxm")
    ap.add_argument("--tp", type=int, default=4)
    ap.add_argument("--precision", default="fp8")
    ap.add_argument("--input-len", type=int, default=1000)
    ap.add_argument("--output-len", type=int, default=300)
    ap.add_argument("--rates", default="2,4,6,8,10,12,14,16")
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--arrivals", default="poisson")
    ap.add_argument("--slo-ttft", default="500ms")
    ap.add_argument("--slo-tpot", default="50ms")
    args = ap.parse_args()
    print(f"{args.model} on {args.tp} x {args.hardware}, {args.precision}, {args.input_len} in / {args.output_len} out, "
          f"{args.requests:,} {args.arrivals} requests per rate, SLOs TTFT {args.slo_ttft}, TPOT {args.slo_tpot}")
    print(f"{'rate/s':>6} {'TTFT p50':>9} {'TTFT p99':>9} {'TPOT p50':>9} {'TPOT p99':>9} {'out tok/s':>10} "
          f"{'goodput/s':>10} {'SLO met':>8}  queue")
    for rate in (float(x) for x in args.rates.split(",")):
        p = tcobench.predict(args.model, args.hardware, tp=args.tp, precision=args.precision, input_len=args.input_len,
                             output_len=args.output_len, rate=rate, requests=args.requests, arrivals=args.arrivals,
                             slo_ttft=args.slo_ttft, slo_tpot=args.slo_tpot)
        s = p.serving
        assert s is not None
        queue = f"grows by {s.queue_growth_per_s:.1f}/s" if s.saturated else "keeps up"
        print(f"{rate:>6g} {s.ttft_s['p50'] * 1e3:>6.0f} ms {s.ttft_s['p99'] * 1e3:>6.0f} ms {s.tpot_s['p50'] * 1e3:>6.1f} ms "
              f"{s.tpot_s['p99'] * 1e3:>6.1f} ms {s.output_tokens_per_s:>10,.0f} {s.goodput_requests_per_s or 0:>10.2f} "
              f"{s.slo_met or 0:>8.1%}  {queue}")


if __name__ == "__main__":
    main()
