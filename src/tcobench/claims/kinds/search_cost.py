"""A claimed TCO-per-token advantage of one chip over another, both served by tcobench's deployment search.

Chiplet Cloud's "15x lower TCO/token than TPUv4" compares a chip that does not exist (priced by its silicon: owned,
its purchase price through the one pricing path) with one that is only rented (TPU v4: its cloud rate). Neither
side's own figure can be read off a sheet, so both come from the same search (``search.compare``): the cheapest
deployment of each chip for the same model and request shape, on the grid up to ``max_chips``. The advantage is
baseline $/1M output tokens / subject $/1M output tokens. A published throughput of the baseline (PaLM on TPU v4,
say), priced at the same catalog rate, is shown beside it as context: a reading of the baseline's side that
does not rest on tcobench's performance model, for a model of its own size.
"""

from __future__ import annotations

from tcobench.claims.kinds.base import Derived, Kind
from tcobench.claims.trace import Value
from tcobench.claims.work import Work
from tcobench.catalog import Hardware
from tcobench.cost.basis import OwnParameters
from tcobench.checks import MAX_COUNT
from tcobench.errors import InputError, MissingInputError

PER_MILLION = Value("tokens per million", 1e6, "1", "definition")


def search_cost_ratio(w: Work) -> Derived:
    from tcobench.search.compare import compare

    model, hw, base = w.model(), w.hardware(), w.baseline_hardware()
    lens = [w.input(k, "1", what=f"request {k.replace('_', ' ')} (tokens)") for k in ("input_len", "output_len")]
    limit = w.input("max_chips", "1", what="the most chips a deployment may use")
    for k, v in (("input_len", lens[0]), ("output_len", lens[1]), ("max_chips", limit)):
        if v.value != int(v.value) or not 1 <= v.value <= MAX_COUNT:
            raise InputError(f"claim.{w.claim.id}.inputs.{k} = {v.value:g}: expected a whole number from 1 to {MAX_COUNT:,}")
    params = OwnParameters.from_basis(w.catalog.get_cost("default"))
    rows, _ = compare(model, [hw, base], input_len=int(lens[0].value), output_len=int(lens[1].value),
                      catalog=w.catalog, params=params, basis="both", max_chips=int(limit.value))
    by_id = {r.hardware: r for r in rows}
    subject = _side(w, hw, by_id[hw.id].usd_per_1m_output_tokens_own, by_id[hw.id].excluded_reason, "own",
                    by_id[hw.id].price_notes.get("own"), lens, limit)
    baseline = _side(w, base, by_id[base.id].usd_per_1m_output_tokens_rent, by_id[base.id].excluded_reason, "rent",
                     by_id[base.id].price_notes.get("rent"), lens, limit)
    ratio = w.step("advantage = baseline $/1M output tokens / subject $/1M output tokens", "TCO per token advantage",
                   baseline.value / subject.value, "1", baseline, subject)
    _published_context(w, base, subject)
    return Derived(ratio)


def _side(w: Work, hw: Hardware, cost: tuple[float, float, float] | None, excluded: str | None, basis: str,
          note: str | None, lens: list[Value], limit: Value) -> Value:
    """One chip's cheapest $/1M output tokens on ``basis``, as a step whose formula names the search."""
    if excluded is not None:
        raise MissingInputError(f"{hw.id} cannot serve {w.claim.model} on up to {int(limit.value)} chips: {excluded}")
    if cost is None:
        raise MissingInputError(f"{hw.id} has no {basis} price: {note or 'none in the catalog'}")
    formula = (f"search.compare({w.claim.model}, {hw.id}, in={int(lens[0].value)}, out={int(lens[1].value)}, "
               f"max_chips={int(limit.value)}).usd_per_1m_output_tokens_{basis}")
    step = w.step(formula + (f"  [{note}]" if note else ""), f"{hw.id} $/1M output tokens ({basis})", cost[1], "USD",
                  *lens, limit)
    for end, v in (("low", cost[0]), ("high", cost[2])):
        if v != cost[1]:
            w.step(f"the {end} end of {hw.id}'s cost inputs", f"{hw.id} $/1M output tokens ({basis}, {end})", v, "USD",
                   step, context=True)
    return step


def _published_context(w: Work, base: Hardware, subject: Value) -> None:
    """The baseline at a published throughput (``baseline_tpot``, ``baseline_batch`` on ``baseline_chips``) and
    its catalog rate, beside the search's reading; context only, as the model there may differ."""
    if not all(w.has(k) for k in ("baseline_tpot", "baseline_batch", "baseline_chips")) or not base.cloud:
        return
    tpot, batch = w.input("baseline_tpot", "s"), w.input("baseline_batch", "1")
    chips = w.input("baseline_chips", "1")
    c = base.cloud[0]
    rate = Value(f"{c.provider} rate", c.rate.value, "USD/s", c.source, ref=f"{base.id}.cloud[0]", note=f"date {c.date}")
    tps = w.step("published tokens/s = batch / TPOT", "published baseline throughput", batch.value / tpot.value,
                 "token/s", batch, tpot, context=True)
    per_m = w.step("$/1M = rate x chips / tokens/s x 1e6", "published baseline $/1M output tokens",
                   rate.value * chips.value / tps.value * 1e6, "USD", rate, chips, tps, PER_MILLION, context=True)
    w.step("advantage at the published baseline = published $/1M / subject $/1M", "advantage (published baseline)",
           per_m.value / subject.value, "1", per_m, subject, context=True)


KINDS = (
    Kind("search-cost-ratio", "a TCO/token advantage of one chip over another, both from the deployment search",
         search_cost_ratio, {"input_len": "1", "output_len": "1", "max_chips": "1", "baseline_tpot": "s",
                             "baseline_batch": "1", "baseline_chips": "1"}),
)
