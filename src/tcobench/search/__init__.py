"""Deployment search: which hardware, how many chips, what layout and batch, at what cost.

    grid.py     candidates x layouts evaluated in one vectorised call; best / Pareto / why-not
    (prices come from cost.price_hardware, the one pricing path)
    compare.py  one row per hardware: cheapest deployment that fits and meets the SLOs
    plan.py     fleet sizing for a demand (requests/s): replicas, chips, utilisation, $/month
    sweep.py    a large grid in memory-bounded chunks, reduced to top-k / Pareto / a file
"""

from tcobench.search.compare import CompareRow, compare
from tcobench.search.grid import DEFAULT_PRECISIONS, Candidate, Layouts, Outcome, candidates, search
from tcobench.search.plan import PlanRow, plan

__all__ = ["DEFAULT_PRECISIONS", "Candidate", "CompareRow", "Layouts", "Outcome", "PlanRow", "candidates", "compare", "plan",
           "search"]
