"""``tcobench demo``: the main job on the built-in defaults, one step after another."""

from __future__ import annotations

from pathlib import Path

import click

from tcobench import checks
from tcobench.cli.context import Context, pass_context
from tcobench.cli.main import cli

# Each step is a command line, run in order; the report (``report -o``) closes the demo.
STEPS: list[list[str]] = [
    ["catalog", "list", "hardware"],
    ["catalog", "list", "models"],
    ["predict", "--model", "llama-2-70b", "--hardware", "h100-sxm", "--chips", "8", "--tp", "2", "--batch", "auto",
     "--input-len", "1024", "--output-len", "256", "--precision", "fp8", "--save"],
    ["validate", "--save"],
    ["compare", "--model", "llama-3.1-70b", "--hardware", "h100-sxm,h200-sxm,b200,mi300x,tpu-v5p,gaudi3",
     "--workload", "chat", "--slo-tpot", "50ms", "--basis", "both", "--save"],
    ["audit", "--save"],
]


@click.command()
@click.option("-o", "--output", "report", default="out/report.html", show_default=True, type=click.Path(dir_okay=False),
              help="Where the closing report goes.")
@pass_context
@click.pass_context
def demo(click_ctx: click.Context, ctx: Context, report: str) -> None:
    """Run the main job: the catalog, a prediction, the validation, a cost comparison, the audit, the report."""
    checks.open_output(report, "-o").close()  # its folder made and the file writable, before the steps run
    for step in [*STEPS, ["report", "-o", report]]:
        click.secho(f"\n$ tcobench {' '.join(step)}", bold=True)
        sub = cli.make_context("tcobench", list(step), parent=click_ctx.parent, obj=ctx)
        with sub:
            cli.invoke(sub)
    click.secho(f"\nreport: {Path(report).resolve()}", bold=True)
