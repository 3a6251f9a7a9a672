"""``tcobench design FILE|ID``: a chip described by its silicon -> its derived figures and its cost breakdown."""

from __future__ import annotations

import click

from tcobench.api.silicon import design as run_design
from tcobench.cli.context import Context, pass_context
from tcobench.cli.render import console, print_json, table


@click.command()
@click.argument("ref", metavar="FILE|ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def design(ctx: Context, ref: str, as_json: bool) -> None:
    """Derive a designed chip (a TOML file with one [design.<id>], or a catalog design id): its peaks, memory,
    links and power as perf sees them, its die area and yield, and what it costs per good die, package, chip and
    system (low / likely / high). Use the same FILE as --hardware in predict, compare, sweep and plan."""
    result = run_design(ref, catalog=ctx.catalog)
    doc = result.to_dict()
    if as_json:
        print_json(doc)
        return
    d = result.derived
    out = console()
    area = d.area
    macs = f", MACs {area.macs * 1e6:,.0f} mm^2" if area.macs is not None else ""
    out.print(f"{d.design.name} ({d.design.id}, {d.design.origin})")
    out.print(f"{d.design.dies} die(s) of {area.die * 1e6:,.0f} mm^2 on {d.node.name}"
              f"{' (area derived: SRAM ' + f'{area.sram * 1e6:,.0f} mm^2' + macs + ')' if area.derived else ''}; "
              f"{d.cost.dies_per_wafer:.1f} dies per wafer; yield {_range(d.cost.yield_nb.as_tuple(), '.1%')} "
              + (f"(negative binomial), {float(d.cost.yield_murphy.likely):.1%} (Murphy)" if d.design.redundancy is None
                 else f"(repaired by {d.design.redundancy.spare_cores:,} spare of {d.design.redundancy.cores:,} cores; "
                      f"without repair {float(d.cost.yield_murphy.likely):.2g} by Murphy)"))
    out.print(table("derived figures (per package; source: the design file)", ["figure", "value", "how"],
                    ([path, f.text, (f.note or "").removeprefix("derived: ")] for path, f in d.hardware.figures().items()
                     if path != "price.purchase")))
    out.print(table("cost (USD)", ["item", "low", "likely", "high", "how"],
                    ([name, *(f"{v:,.0f}" for v in s.as_tuple()), how] if s is not None else [name, "", "", "", "not in the node data"]
                     for name, s, how in d.cost.rows()), justify=("left", "right", "right", "right", "left")))
    out.print(f"price per chip (the hardware record's price.purchase): {_range(d.cost.chip.as_tuple(), ',.0f', '$')}; "
              f"per system of {d.design.system.packages}: "
              f"{_range(d.cost.system.as_tuple(), ',.0f', '$')}")


def _range(t: tuple[float, float, float], fmt: str, prefix: str = "") -> str:
    lo, mid, hi = t
    if lo == mid == hi:
        return f"{prefix}{mid:{fmt}}"
    return f"{prefix}{mid:{fmt}} ({prefix}{lo:{fmt}} to {prefix}{hi:{fmt}})"
