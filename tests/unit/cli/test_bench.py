"""``bench`` reads its options through one typed record, and hands them to ``tcobench.bench``."""

from __future__ import annotations

import inspect
from dataclasses import fields

import click

import tcobench
from tcobench.cli.bench import BenchOptions, bench

CLI_ONLY = {"--label", "--save", "--json", "--quiet"}  # saving and printing stay the command's
PYTHON_ONLY = {"catalog", "progress"}  # the CLI's --catalog is global; its progress is the live bar


def test_bench_options_has_one_field_per_option_and_no_other() -> None:
    assert [f.name for f in fields(BenchOptions)] == [p.name for p in bench.params]


def test_every_flag_but_printing_and_saving_is_a_keyword_of_tcobench_bench_with_the_same_name() -> None:
    flags = {p.opts[0] for p in bench.params if isinstance(p, click.Option)} - CLI_ONLY
    keywords = {"--" + name.replace("_", "-") for name in inspect.signature(tcobench.bench).parameters
                if name not in PYTHON_ONLY}
    assert flags == keywords
