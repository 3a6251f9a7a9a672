"""What users type, turned into records: ids or files, comma lists, durations and prices with units.

Each function names the parameter a bad value came in (``{model}``, ``{hardware}``, ...), so the same error
reads as the keyword argument from Python and as the flag from the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tcobench import units
from tcobench.catalog import Catalog, Hardware, Model, load_catalog
from tcobench.cost import DEFAULT_BASIS, OwnParameters
from tcobench.errors import InputError, close_matches

Ref = str | Model
HardwareRef = str | Hardware


def catalog_or_default(catalog: Catalog | None) -> Catalog:
    return catalog if catalog is not None else load_catalog()


def model_of(cat: Catalog, ref: Ref, param: str = "model") -> Model:
    """A model record, a catalog id, a catalog file or a Hugging Face config.json path (given as ``param``)."""
    return ref if isinstance(ref, Model) else cat.model(str(ref), where="{" + param + "}")


def hardware_of(cat: Catalog, ref: HardwareRef) -> Hardware:
    """A hardware record, a catalog id or a catalog file."""
    return ref if isinstance(ref, Hardware) else cat.hardware_ref(str(ref), where="{hardware}")


def hardware_list(cat: Catalog, spec: str | Sequence[HardwareRef] | None) -> list[Hardware]:
    """'h100-sxm,b200', a list of ids or records, or None / 'all' (every catalog chip), with did-you-mean errors."""
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "all")):
        return [cat.hardware[k] for k in sorted(cat.hardware)]
    items: Sequence[HardwareRef] = [s.strip() for s in spec.split(",") if s.strip()] if isinstance(spec, str) else spec
    return [hardware_of(cat, h) for h in items]


def names(spec: str | Sequence[str] | None) -> list[str] | None:
    """'bf16,fp8' or ['bf16', 'fp8'] -> a list; None stays None."""
    if spec is None:
        return None
    return [s.strip() for s in spec.split(",") if s.strip()] if isinstance(spec, str) else list(spec)


def workload_lengths(cat: Catalog, workload: str | None, input_len: int | None, output_len: int | None) -> tuple[int, int, str]:
    """Lengths from a workload preset or from input_len/output_len (which override the preset)."""
    if workload:
        w = cat.get_workload(workload, where="{workload}")
        return input_len or w.input_len, output_len or w.output_len, w.id
    if input_len is None or output_len is None:
        raise InputError(f"give {{workload}} ({', '.join(sorted(cat.workloads))}) or both {{input_len}} and {{output_len}}",
                         params=("workload", "input_len", "output_len"))
    return input_len, output_len, f"{input_len}/{output_len}"


def seconds(value: float | str | None, param: str) -> float | None:
    """A duration: seconds as a number, or text with a unit ('50ms', '2 s')."""
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    return units.parse(value, "s", where="{" + param + "}")


def positive_seconds(value: float | str | None, param: str) -> float | None:
    """A duration that must be > 0: seconds as a number, or text with a unit ('500ms')."""
    out = seconds(value, param)
    if out is not None and not out > 0:
        raise InputError(f"{{{param}}} {value!r} must be > 0", params=(param,))
    return out


def usd(value: float | str | None, unit: str, param: str) -> float | None:
    """A price in ``unit`` ('USD/h', 'USD'): a number, a number as text, or text with a unit ('$2.49/h')."""
    if value is None or isinstance(value, (int, float)):
        return None if value is None else float(value)
    try:
        return float(value)
    except ValueError:
        return units.parse(value, unit, where="{" + param + "}")


def positive_numbers(value: str | float | Sequence[float] | None, kind: type[int | float], param: str) -> list[Any]:
    """'1,8,64', a number or a list of numbers -> a list of ``kind`` (int or float), each > 0; None or '' -> []."""
    if value is None or value == "":
        return []
    bad = InputError(f"cannot read {value!r} in {{{param}}}; expected comma-separated numbers, e.g. 1,8,64", params=(param,))
    if isinstance(value, str):
        try:
            values: list[Any] = [kind(part) for part in value.replace(" ", "").split(",") if part]
        except ValueError:
            raise bad from None
    else:
        values = list(value) if isinstance(value, Sequence) else [value]
        if any(isinstance(v, bool) or not isinstance(v, (int, float) if kind is float else int) for v in values):
            raise bad
        values = [kind(v) for v in values]
    if not values or any(not v > 0 for v in values):
        raise InputError(f"{{{param}}} {value!r}: every value must be > 0", params=(param,))
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


def whole(value: int, param: str, at_least: int) -> int:
    """A whole number >= ``at_least`` (tokens, requests, chips)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{{{param}}} must be a whole number, got {value!r}", params=(param,))
    if value < at_least:
        raise InputError(f"{{{param}}} must be >= {at_least}, got {value!r}", params=(param,))
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

    def money(v: float | str | None, unit: str, param: str) -> float | None:
        return v if v is None or isinstance(v, (int, float)) else units.parse(v, unit, where="{" + param + "}")

    return OwnParameters.from_basis(basis).pinned({
        "amortisation_s": None if amortisation_years is None else amortisation_years * units.parse("1 year", "s"),
        "cost_of_capital": cost_of_capital, "utilisation": utilisation, "pue": pue,
        "electricity_usd_per_j": money(electricity, "USD/J", "electricity"),
        "hosting_usd_per_w_s": money(hosting, "USD/W/s", "hosting"), "maintenance": maintenance}, where="cost flags")


def cost_overrides(kw: dict[str, Any]) -> dict[str, Any]:
    """Pop the cost-basis overrides out of a dict of keyword arguments."""
    keys = ("cost_basis", "amortisation_years", "cost_of_capital", "utilisation", "pue", "electricity", "hosting",
            "maintenance")
    return {k: kw.pop(k) for k in keys if k in kw and kw[k] is not None}
