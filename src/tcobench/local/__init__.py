"""Measured where the user stands: probe the local device, time a Llama-shaped model on it, fit perf's factors.

    device.py     PyTorch, imported lazily (extra ``tcobench[measure]``), and the device a run uses
    timing.py     wall time of a callable on a device, to a time budget (median of repetitions)
    probe.py      GEMM FLOP/s by shape, weight streaming at small m, copy bandwidth, launch cost -> a profile
    profile.py    a probe's figures written as a catalog hardware file, efficiency factors included
    decoder.py    a Llama-shaped decoder (RMSNorm, RoPE, GQA, SwiGLU) with random weights, in plain PyTorch
    grid.py       prefill and decode timed over a grid of batch and context -> measured records
    fit.py        the efficiency factors perf uses, fitted to measured records by least squares, with k-fold

Only ``perf`` predicts; this package measures, and ``fit`` asks ``perf`` what a set of factors predicts.
"""
