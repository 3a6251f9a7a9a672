"""What users type, turned into records: ids or files, comma lists, durations and prices with units.

Each function names the parameter a bad value came in (``{model}``, ``{hardware}``, ...), so the same error
reads as the keyword argument from Python and as the flag from the CLI.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from collections.abc import Mapping, Sequence
from typing import Any

from tcobench import checks, units
from tcobench.catalog import Catalog, Hardware, Model, load_catalog
from tcobench.catalog.schema import Runtime
from tcobench.cost import DEFAULT_BASIS, OwnParameters
from tcobench.errors import InputError, close_matches, quote
from tcobench.perf.traffic import Traffic, is_process, parse_process

Ref = str | Model
HardwareRef = str | Hardware


def catalog_or_default(catalog: Catalog | None) -> Catalog:
    return catalog if catalog is not None else load_catalog()


def model_of(cat: Catalog, ref: Ref, param: str = "model") -> Model:
    """A model record, a catalog id, a catalog file or a Hugging Face config.json path (given as ``param``)."""
    return ref if isinstance(ref, Model) else cat.model(str(ref), where="{" + param + "}")


def hardware_of(cat: Catalog, ref: HardwareRef) -> Hardware:
    """A hardware record, a catalog id, a catalog file, or a design (its id, or a file with a ``[design.<id>]``:
    a chip described by its silicon, derived by ``silicon``)."""
    if isinstance(ref, Hardware):
        return ref
    from tcobench import silicon

    designed = silicon.hardware_of(cat, str(ref), where="{hardware}")
    return designed if designed is not None else cat.hardware_ref(str(ref), where="{hardware}")


def hardware_list(cat: Catalog, spec: str | Sequence[HardwareRef] | None) -> list[Hardware]:
    """'h100-sxm,b200', a list of ids or records, or None / 'all' (every catalog chip), with did-you-mean errors.
    An empty spec ('', ',,,', []) is an error, never "all" and never a silent empty result."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() == "all"):
        return [cat.hardware[k] for k in sorted(cat.hardware)]
    items: list[HardwareRef] = list(spec) if not isinstance(spec, str) else []
    if isinstance(spec, str):
        items.extend(names(spec, "hardware", "hardware ids or 'all', e.g. h100-sxm,mi300x") or ())
    elif not items:
        names([], "hardware", "hardware ids or records")  # raises: an empty list names nothing
    return [hardware_of(cat, h) for h in items]


def names(spec: str | Sequence[str] | None, param: str = "", expected: str = "comma-separated names") -> list[str] | None:
    """'bf16,fp8' or ['bf16', 'fp8'] -> a list; None stays None. Given but naming nothing ('', ',,', []) is an
    InputError naming ``param`` (a list of ``expected``)."""
    if spec is None:
        return None
    items = [s.strip() for s in spec.split(",") if s.strip()] if isinstance(spec, str) else list(spec)
    if not items:
        where = "{" + param + "}" if param else "a list"
        raise InputError(f"{where} {quote(spec)} names nothing; expected {expected}", params=(param,) if param else ())
    return items


def runtimes_of(cat: Catalog, spec: str | Mapping[str, str] | None, hardware: Sequence[Hardware]) -> dict[str, Runtime]:
    """The serving stack per hardware id of a compare, plan or sweep: ``spec`` is one catalog runtime id for every
    chip ('vllm-0.6'), ``HW=ID`` pairs for some ('mi300x=vllm-0.6-rocm,h100-sxm=trtllm'), or both (the bare id for
    the chips no pair names), or a mapping {hardware id: runtime id}. A chip named nowhere runs the default stack."""
    if spec is None:
        return {}
    pairs: list[tuple[str | None, str]] = []
    if isinstance(spec, Mapping):
        pairs = [(str(k), str(v)) for k, v in spec.items()]
    else:
        for item in names(spec, "runtime", "a runtime id, or HW=RUNTIME pairs") or []:
            hw, eq, rt = item.partition("=")
            if eq and not (hw.strip() and rt.strip()):
                raise InputError(f"{{runtime}} {quote(item)}: expected HW=RUNTIME, e.g. 'mi300x=vllm-0.6-rocm'",
                                 params=("runtime",))
            pairs.append((hw.strip(), rt.strip()) if eq else (None, item))
    ids = [h.id for h in hardware]
    everywhere = [rt for hw, rt in pairs if hw is None]
    if len(everywhere) > 1:
        raise InputError(f"{{runtime}} names {len(everywhere)} runtimes for every chip ({', '.join(everywhere)}); give one, "
                         "and HW=RUNTIME pairs for the others", params=("runtime",))
    out = {h: cat.get_runtime(everywhere[0], where="{runtime}") for h in ids} if everywhere else {}
    for chip, stack in pairs:
        if chip is None:
            continue
        if chip.lower() not in ids:
            near = close_matches(chip, ids)
            hint = f"; did you mean {' or '.join(map(quote, near))}?" if near else f" (compared: {', '.join(ids)})"
            raise InputError(f"{{runtime}} {quote(f'{chip}={stack}')}: {quote(chip)} is not among the hardware{hint}",
                             params=("runtime",))
        out[chip.lower()] = cat.get_runtime(stack, where="{runtime}")
    return out


def workload_lengths(cat: Catalog, workload: str | None, input_len: int | None, output_len: int | None) -> tuple[int, int, str]:
    """Lengths from a workload preset or from input_len/output_len (which override the preset)."""
    if input_len is not None:
        input_len = whole(input_len, "input_len", 1)
    if output_len is not None:
        output_len = whole(output_len, "output_len", 1)
    if workload:
        w = cat.get_workload(workload, where="{workload}")
        return input_len or w.input_len, output_len or w.output_len, w.id
    if input_len is None or output_len is None:
        raise InputError(f"give {{workload}} ({', '.join(sorted(cat.workloads))}) or both {{input_len}} and {{output_len}}",
                         params=("workload", "input_len", "output_len"))
    return input_len, output_len, f"{input_len}/{output_len}"


def seconds(value: float | str | None, param: str) -> float | None:
    """A duration: seconds as a finite number, or text with a unit ('50ms', '2 s')."""
    if value is None:
        return None
    where = "{" + param + "}"
    if isinstance(value, str):
        return units.parse(value, "s", where=where)
    return checks.number(value, where)


def positive_seconds(value: float | str | None, param: str) -> float | None:
    """A duration that must be finite and > 0 (an SLO, a timeout): seconds as a number, or text with a unit
    ('500ms')."""
    out = seconds(value, param)
    if out is not None and not (math.isfinite(out) and out > 0):
        raise InputError(f"{{{param}}} {quote(value)} must be > 0", params=(param,))
    return out


def usd(value: float | str | None, unit: str, param: str) -> float | None:
    """A price >= 0 in ``unit`` ('USD/h', 'USD'): a number, a number as text, or text with a unit ('$2.49/h')."""
    if value is None:
        return None
    where = "{" + param + "}"
    if isinstance(value, str) and not checks.is_number_text(value):  # text with a unit: the message quotes it
        si = units.parse(value, unit, where=where)
        return checks.price(si, where, f"{quote(value)} (= {si:g} {unit})")
    return checks.price(float(value) if isinstance(value, str) else value, where)


def rate(value: float | str | None, unit: str, param: str) -> float | None:
    """A price per something >= 0: a number in ``unit`` (SI: 'USD/J'), or text that says its unit ('$0.12/kWh'); a
    bare number as text is refused, as nobody writes an energy price in dollars per joule."""
    if value is None:
        return None
    where = "{" + param + "}"
    if isinstance(value, str):
        si = units.parse(value, unit, where=where)
        return checks.price(si, where, f"{quote(value)} (= {si:g} {unit})")
    return checks.price(value, where)


def number(value: float | None, param: str, **bounds: Any) -> float | None:
    """A finite number within ``bounds`` (checks.number's keywords), or None."""
    return None if value is None else checks.number(value, "{" + param + "}", **bounds)


def positive_numbers(value: str | float | Sequence[float] | None, kind: type[int | float], param: str) -> list[Any]:
    """'1,8,64', a number or a list of numbers -> a list of ``kind`` (int or float), each finite and > 0 (a count at
    most checks.MAX_COUNT); None or '' -> []. Text is ASCII ('1,８' and 'inf' are not numbers)."""
    if value is None or value == "":
        return []
    bad = InputError(f"cannot read {quote(value)} in {{{param}}}; expected comma-separated numbers, e.g. 1,8,64",
                     params=(param,))
    values: list[Any]
    if isinstance(value, str):
        parts = [part for part in value.replace(" ", "").split(",") if part]
        text = re.compile(r"\+?[0-9]{1,30}", re.ASCII) if kind is int else None
        if not all(text.fullmatch(p) if text is not None else checks.is_number_text(p) for p in parts):
            raise bad
        values = [kind(p) for p in parts]
    else:
        items: list[object] = list(value) if isinstance(value, Sequence) else [value]
        numbers = [v for v in items if isinstance(v, (int, float) if kind is float else int) and not isinstance(v, bool)]
        if len(numbers) != len(items):
            raise bad
        values = [kind(v) for v in numbers]
    most = math.inf if kind is float else checks.MAX_COUNT
    if not values or any(not (math.isfinite(v) and 0 < v <= most) for v in values):
        limit = "" if kind is float else f" and at most {checks.MAX_COUNT:,}"
        raise InputError(f"{{{param}}} {quote(value)}: every value must be > 0{limit}, and finite", params=(param,))
    return values


def share(value: float | str, param: str) -> float:
    """A share from 0 to 1: a number (0.5), a number as text ('0.5') or a percent ('50%')."""
    text = str(value).strip()
    try:
        if isinstance(value, bool):
            raise ValueError
        out = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        out = float("nan")
    if not 0 <= out <= 1:  # NaN too
        raise InputError(f"{{{param}}} {value!r}: expected a share from 0 to 1 (0.5) or a percent (50%)",
                         params=(param,))
    return out


def whole(value: int, param: str, at_least: int, at_most: int = checks.MAX_COUNT) -> int:
    """A whole number in [at_least, at_most] (tokens, requests, chips): an int, not a bool or a float."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{{{param}}} must be a whole number, got {quote(value)}", params=(param,))
    if value < at_least:
        raise InputError(f"{{{param}}} must be >= {at_least}, got {quote(value)}", params=(param,))
    if value > at_most:
        raise InputError(f"{{{param}}} must be <= {at_most:,}, got {quote(value)}", params=(param,))
    return value


def one_of(value: str, allowed: Sequence[str], param: str) -> str:
    """``value`` if it is one of ``allowed``, else an error with the closest choice."""
    if value in allowed:
        return value
    hint = close_matches(str(value), allowed)
    raise InputError(f"{{{param}}} {value!r} is not one of {', '.join(allowed)}"
                     + (f"; did you mean {hint[0]!r}?" if hint else ""), params=(param,))


def own_parameters(cat: Catalog, *, cost_basis: str = DEFAULT_BASIS, amortisation_years: float | None = None,
                   cost_of_capital: float | None = None, utilisation: float | None = None, pue: float | None = None,
                   electricity: float | str | None = None, hosting: float | str | None = None,
                   maintenance: float | None = None) -> OwnParameters:
    """The owner's cost basis with overrides pinned. ``electricity``: USD/J or text ('$0.12/kWh'); ``hosting``:
    USD per W-second or text ('$150/kW/month')."""
    basis = cat.get_cost(cost_basis, where="{cost_basis}")
    years = number(amortisation_years, "amortisation_years", **COST_RANGES["amortisation_years"])
    return OwnParameters.from_basis(basis).pinned({
        "amortisation_s": None if years is None else years * units.parse("1 year", "s"),
        "cost_of_capital": number(cost_of_capital, "cost_of_capital", **COST_RANGES["cost_of_capital"]),
        "utilisation": number(utilisation, "utilisation", **COST_RANGES["utilisation"]),
        "pue": number(pue, "pue", **COST_RANGES["pue"]),
        "electricity_usd_per_j": rate(electricity, "USD/J", "electricity"),
        "hosting_usd_per_w_s": rate(hosting, "USD/W/s", "hosting"),
        "maintenance": number(maintenance, "maintenance", **COST_RANGES["maintenance"])}, where="cost flags")


# The range of each cost-basis override (the CLI's flags take the same): a life of up to a century, rates per year
# up to 10 (1,000%), PUE from 1 (no overhead) to 10.
COST_RANGES: dict[str, dict[str, Any]] = {
    "amortisation_years": dict(low=0.0, high=100.0, low_open=True), "cost_of_capital": dict(low=0.0, high=10.0),
    "utilisation": dict(low=0.0, high=1.0), "pue": dict(low=1.0, high=10.0), "maintenance": dict(low=0.0, high=10.0)}


def cost_overrides(kw: dict[str, Any]) -> dict[str, Any]:
    """Pop the cost-basis overrides out of a dict of keyword arguments."""
    keys = ("cost_basis", "amortisation_years", "cost_of_capital", "utilisation", "pue", "electricity", "hosting",
            "maintenance")
    return {k: kw.pop(k) for k in keys if k in kw and kw[k] is not None}


DEFAULT_REQUESTS = 1000  # requests a serving simulation runs when not told


def traffic_of(rate: float | None, concurrency: int | None, requests: int | None, arrivals: str | None,
               input_len: int, output_len: int, seed: int = 0, *, input_dist: str | None = None,
               output_dist: str | None = None, prefix_share: float | None = None) -> Traffic | None:
    """The traffic of a serving simulation: ``rate`` requests/s arriving by ``arrivals`` (poisson, constant,
    gamma:CV; default poisson), ``concurrency`` users in a closed loop, or a trace file in ``arrivals``; ``requests``
    of them (a trace: its first ``requests`` lines). None when none of these is given (no simulation).
    ``input_dist`` / ``output_dist``: each request's lengths drawn from ``N``, ``LO..HI`` or ``normal:MEAN:SD``
    instead of ``input_len`` / ``output_len`` (not with a trace, which gives its own); ``prefix_share``: every
    prompt starts with one shared prefix of that share of the mean prompt (``Traffic.with_prefix``)."""
    t = _traffic(rate, concurrency, requests, arrivals, input_len, output_len, seed)
    shaped = {k: v for k, v in (("input_dist", input_dist), ("output_dist", output_dist), ("prefix_share", prefix_share))
              if v is not None}
    if t is None:
        if shaped:
            given = next(iter(shaped))
            raise InputError(f"{{{given}}} describes a serving simulation: give {{rate}} (requests/s), {{concurrency}} or a "
                             "trace file in {arrivals} too", params=(given, "rate", "concurrency", "arrivals"))
        return None
    if arrivals is not None and not is_process(arrivals):  # a trace
        for name in ("input_dist", "output_dist"):
            if name in shaped:
                raise InputError(f"{{{name}}} {quote(shaped[name])}: the trace {quote(arrivals)} gives each request's "
                                 "lengths; leave it out", params=(name, "arrivals"))
    if input_dist is not None or output_dist is not None:
        t = t.with_lengths(input_dist, output_dist, seed)
    return t.with_prefix(prefix_share) if prefix_share is not None else t


def _traffic(rate: float | None, concurrency: int | None, requests: int | None, arrivals: str | None,
             input_len: int, output_len: int, seed: int = 0) -> Traffic | None:
    """``traffic_of`` before lengths and prefixes."""
    if rate is not None and concurrency is not None:
        raise InputError("give {rate} (an open loop) or {concurrency} (a closed loop), not both",
                         params=("rate", "concurrency"))
    if rate is not None:
        rate = checks.positive(rate, "{rate}")
    if concurrency is not None:
        concurrency = whole(concurrency, "concurrency", 1)
    if requests is not None:
        requests = whole(requests, "requests", 1)
    seed = whole(seed, "seed", 0)
    if arrivals is not None and not isinstance(arrivals, str):
        raise InputError(f"{{arrivals}} {quote(arrivals)}: expected poisson, constant, gamma:CV or a trace file",
                         params=("arrivals",))
    if arrivals is not None and not is_process(arrivals) and not Path(arrivals).is_file():
        parse_process(arrivals)  # neither a process nor a file: says what was expected
    if arrivals is not None and not is_process(arrivals):  # a trace file
        if rate is not None or concurrency is not None:
            raise InputError(f"{{arrivals}} {quote(arrivals)} is a trace, which sets the arrival times: leave out "
                             f"{{{'rate' if rate is not None else 'concurrency'}}}", params=("arrivals", "rate", "concurrency"))
        t = Traffic.trace(arrivals)
        if requests is not None and requests < t.n:
            keep = slice(0, requests)
            t = Traffic(t.input_len[keep], t.output_len[keep], None if t.arrivals is None else t.arrivals[keep], None,
                        t.label.replace(f"({t.n:,} requests)", f"(first {requests:,} requests)"), t.rate)
        return t
    if rate is None and concurrency is None:
        if arrivals is not None or requests is not None:
            given = "arrivals" if arrivals is not None else "requests"
            raise InputError(f"{{{given}}} describes a serving simulation: give {{rate}} (requests/s) or {{concurrency}} "
                             "too, or a trace file in {arrivals}", params=(given, "rate", "concurrency"))
        return None
    n = requests or DEFAULT_REQUESTS
    if concurrency is not None:
        if arrivals is not None:
            raise InputError(f"{{arrivals}} {quote(arrivals)} is an open loop's arrival process; {{concurrency}} is a closed "
                             "loop (each user sends when its last request finishes): give {rate} instead",
                             params=("arrivals", "concurrency", "rate"))
        return Traffic.closed(concurrency, n, input_len, output_len)
    return Traffic.open(arrivals or "poisson", rate if rate is not None else 0.0, n, input_len, output_len, seed)
