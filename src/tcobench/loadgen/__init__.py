"""Load generation for ``tcobench bench``: time real OpenAI-compatible endpoints.

    prompts.py   what to send (random word prompts, JSONL, ShareGPT)
    arrivals.py  when to send it in an open loop (poisson, constant, gamma)
    api.py       the request body and the streamed delta of /v1/completions and /v1/chat/completions
    sse.py       one incremental server-sent-events parser
    client.py    one pooled async HTTP client; times one streamed request into a ``RequestResult``
    transport.py the keep-alive HTTP/1.1 connections under it (chunked framing parsed on arrival)
    timer.py     microsecond-precise open-loop sleeps (a timerfd) without spinning
    result.py    ``RequestResult`` and the error kinds it is classified into
    runner.py    closed loop (concurrency) and open loop (rate) over one load level
    bench.py     a whole run: every load level in turn, with one pooled client (``run_bench``)
    spread.py    one level spread over several client processes (Dask workers, ``bench --workers``), merged
    metrics.py   TTFT, TPOT, ICL, E2E, throughput, goodput over a steady-state window

What a level costs is priced above this package (``cost.price_tokens``, ``api.bench``): the measured side
does not import the model or the search.

Every timestamp is ``time.perf_counter_ns()`` (a monotonic nanosecond clock); every duration that
leaves this package is in seconds.
"""
