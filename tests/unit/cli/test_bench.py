"""``bench`` reads its options through one typed record."""

from __future__ import annotations

from dataclasses import fields

from tcobench.cli.bench import BenchOptions, bench


def test_bench_options_has_one_field_per_option_and_no_other() -> None:
    assert [f.name for f in fields(BenchOptions)] == [p.name for p in bench.params]
