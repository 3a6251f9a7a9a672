"""How the tables print throughputs and counts: a designed chip's fraction of a token per second is not "0"."""

from __future__ import annotations

import pytest

from tcobench.cli.render import count, per_s


@pytest.mark.parametrize(("value", "text"), [(0.00303, "0.00303"), (0.43, "0.43"), (9.74, "9.74"), (10.0, "10"),
                                             (46.2, "46"), (12345.6, "12,346")])
def test_per_s_keeps_three_figures_below_ten(value: float, text: str) -> None:
    assert per_s(value) == text


@pytest.mark.parametrize(("value", "text"), [(346.0, "346"), (2_500.0, "2.5k"), (1_170_000.0, "1.17M"), (0.5, "0.5")])
def test_count_uses_the_largest_prefix_it_reaches(value: float, text: str) -> None:
    assert count(value) == text
