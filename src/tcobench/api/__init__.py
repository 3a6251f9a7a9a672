"""The Python API: one call per command, keyword arguments named like the command's flags.

This layer composes the others (catalog, perf, cost, search, audit, loadgen): it is where the measured and the
predicted sides meet. The CLI renders what it returns.
"""
