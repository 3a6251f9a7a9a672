import itertools
import statistics

import pytest

from tcobench.errors import InputError
from tcobench.loadgen.arrivals import Arrival, offsets


def _gaps(spec: str, rate: float, n: int = 20000) -> list[float]:
    return list(itertools.islice(Arrival.parse(spec).gaps(rate, seed=1), 1, n + 1))


@pytest.mark.parametrize("spec, cv", [("poisson", 1.0), ("constant", 0.0), ("gamma:2", 2.0), ("gamma:0.5", 0.5)])
def test_gaps_have_the_requested_mean_and_variation(spec: str, cv: float) -> None:
    g = _gaps(spec, rate=5.0)
    assert statistics.fmean(g) == pytest.approx(0.2, rel=0.05)
    assert statistics.pstdev(g) / statistics.fmean(g) == pytest.approx(cv, abs=0.08)


def test_offsets_start_at_zero_and_grow_and_repeat_with_the_seed() -> None:
    a = list(itertools.islice(offsets(Arrival.parse("poisson"), 10.0, seed=3), 50))
    b = list(itertools.islice(offsets(Arrival.parse("poisson"), 10.0, seed=3), 50))
    assert a == b and a[0] == 0.0 and all(x < y for x, y in itertools.pairwise(a))


@pytest.mark.parametrize("spec", ["uniform", "gamma:", "gamma:0", "gamma:-1", "poisson:2"])
def test_bad_arrival_specs_name_the_parameter(spec: str) -> None:
    with pytest.raises(InputError, match=r" in arrival\b") as info:
        Arrival.parse(spec)
    assert info.value.params == ("arrival",) and "--" not in str(info.value)


def test_rate_must_be_positive() -> None:
    with pytest.raises(InputError, match="rate"):
        next(iter(Arrival.parse("poisson").gaps(0.0)))
