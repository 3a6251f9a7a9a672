"""Deployment search: which hardware, how many chips, what layout and batch, at what cost.

    grid.py     candidates x layouts evaluated in one vectorised call; best / Pareto / why-not
    pricing.py  a chip's own and rent rate under a cost basis (spans), or why it has none
    compare.py  one row per hardware: cheapest deployment that fits and meets the SLOs
    plan.py     fleet sizing for a demand (requests/s): replicas, chips, utilisation, $/month
    sweep.py    a large grid in memory-bounded chunks, reduced to top-k / Pareto / a file
"""

from tcobench.search.compare import CompareRow, compare
from tcobench.search.grid import DEFAULT_PRECISIONS, Candidate, Layouts, Outcome, candidates, search
from tcobench.search.plan import PlanRow, plan
from tcobench.search.pricing import Pricing, price_hardware

__all__ = ["DEFAULT_PRECISIONS", "Candidate", "CompareRow", "Layouts", "Outcome", "PlanRow", "Pricing", "candidates",
           "compare", "plan", "price_hardware", "search"]
