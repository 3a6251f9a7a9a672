"""The deployment search: the chosen deployment fits and meets the SLOs, equals predict + cost, Pareto, sweep."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tcobench.catalog import load_catalog
from tcobench.cost import OwnParameters, chip_capex, own_span, rent_rate
from tcobench.errors import InputError
from tcobench.perf import predict
from tcobench.search import Layouts, candidates, compare, plan, search
from tcobench.search.sweep import parse_axis, sweep

CAT = load_catalog()
PARAMS = OwnParameters.from_basis(CAT.get_cost("default"))
GPUS = [CAT.get_hardware(h) for h in ("h100-sxm", "mi300x", "b200")]


@settings(max_examples=15, deadline=None)
@given(slo_tpot=st.floats(0.015, 0.2), in_len=st.sampled_from([128, 1000, 8000]), out_len=st.sampled_from([64, 1000]))
def test_chosen_deployment_fits_and_meets_the_slo(slo_tpot: float, in_len: int, out_len: int) -> None:
    model = CAT.get_model("llama-3.1-8b")
    rows, _ = compare(model, GPUS, input_len=in_len, output_len=out_len, catalog=CAT, params=PARAMS, slo_tpot=slo_tpot)
    for r in rows:
        if r.deployment is None:
            assert r.excluded_reason
            continue
        p = predict(model, CAT.get_hardware(r.hardware), tp=r.deployment.tp, pp=r.deployment.pp, ep=r.deployment.ep,
                    batch=r.deployment.batch, input_len=in_len, output_len=out_len, precision=r.deployment.precision,
                    catalog=CAT)
        assert p.fits and p.reason is None
        assert p.tpot_s <= slo_tpot


def test_compare_row_equals_predict_plus_cost() -> None:
    model = CAT.get_model("llama-3.1-70b")
    rows, evaluated = compare(model, [CAT.get_hardware("h100-sxm")], input_len=1000, output_len=1000, catalog=CAT,
                              params=PARAMS, slo_tpot=0.05)
    assert evaluated > 1000
    (row,) = rows
    d = row.deployment
    assert d is not None
    p = predict(model, CAT.get_hardware("h100-sxm"), tp=d.tp, pp=d.pp, ep=d.ep, batch=d.batch, input_len=1000,
                output_len=1000, precision=d.precision, slo_tpot=0.05, catalog=CAT)
    assert row.tpot_s == pytest.approx(p.tpot_s) and row.ttft_s == pytest.approx(p.ttft_s)
    assert row.output_tokens_per_s_per_chip == pytest.approx(p.output_tokens_per_s_per_chip)
    capex = chip_capex(CAT.get_hardware("h100-sxm"), CAT)
    own = own_span(capex.price_usd, capex.watts, PARAMS).as_tuple()
    expected = [v * d.chips / p.output_tokens_per_s * 1e6 for v in own]
    assert row.usd_per_1m_output_tokens_own == pytest.approx(tuple(expected))
    rent = rent_rate(CAT.get_hardware("h100-sxm")).usd_per_s.as_tuple()
    assert row.usd_per_1m_output_tokens_rent[1] == pytest.approx(rent[1] * d.chips / p.output_tokens_per_s * 1e6)


def test_no_other_feasible_deployment_is_cheaper() -> None:
    model = CAT.get_model("llama-3.1-70b")
    cands = candidates([CAT.get_hardware("h100-sxm")])
    o = search(model, cands, Layouts.grid(model), input_len=1000, output_len=1000, catalog=CAT, slo_tpot=0.05)
    r, k = o.best(range(len(cands)))
    per_chip = np.where(o.result.ok, o.result.output_tokens_per_s_per_chip, -np.inf)
    assert per_chip[r, k] == per_chip.max()


def test_rows_say_why_a_chip_cannot_serve() -> None:
    model = CAT.get_model("llama-3.1-405b") if "llama-3.1-405b" in CAT.models else CAT.get_model("llama-3.1-70b")
    rows, _ = compare(model, [CAT.get_hardware("rtx-4090")], input_len=1000, output_len=1000, catalog=CAT, params=PARAMS,
                      max_chips=2)
    assert rows[0].deployment is None and "does not fit" in rows[0].excluded_reason
    rows, _ = compare(CAT.get_model("llama-3.1-70b"), [CAT.get_hardware("h100-sxm")], input_len=1000, output_len=1000,
                      catalog=CAT, params=PARAMS, slo_tpot=0.0005)
    assert rows[0].deployment is None and rows[0].excluded_reason.startswith("misses the TPOT SLO")


def test_rows_are_sorted_by_cost_and_unpriced_chips_say_so() -> None:
    hws = [CAT.get_hardware(h) for h in ("h100-sxm", "h200-sxm", "mi300x")]
    rows, _ = compare(CAT.get_model("llama-3.1-8b"), hws, input_len=1000, output_len=1000, catalog=CAT, params=PARAMS,
                      basis="own", slo_tpot=0.05)
    costs = [r.usd_per_1m_output_tokens_own[1] for r in rows if r.usd_per_1m_output_tokens_own]
    assert costs == sorted(costs)
    h200 = next(r for r in rows if r.hardware == "h200-sxm")
    assert h200.excluded_reason and "no purchase price" in h200.excluded_reason
    assert rows[-1].hardware == "h200-sxm"


def test_pareto_front_is_not_dominated() -> None:
    rows, _ = compare(CAT.get_model("llama-3.1-8b"), [CAT.get_hardware("h100-sxm")], input_len=1000, output_len=1000,
                      catalog=CAT, params=PARAMS, pareto=True)
    front = rows[0].pareto
    assert len(front) >= 3
    inter = [p["interactivity_tokens_per_s"] for p in front]
    tps = [p["output_tokens_per_s_per_chip"] for p in front]
    assert inter == sorted(inter, reverse=True) and tps == sorted(tps)  # trading one for the other


def test_plan_hand_checks_replicas_and_cost() -> None:
    rows, _ = plan(CAT.get_model("llama-3.1-8b"), [CAT.get_hardware("h100-sxm")], qps=200, input_len=1000, output_len=500,
                   catalog=CAT, params=PARAMS, slo_tpot=0.04)
    r = rows[0]
    assert r.replicas * r.requests_per_s_per_replica >= 200
    assert (r.replicas - 1) * r.requests_per_s_per_replica < 200
    assert r.utilisation == pytest.approx(200 / (r.replicas * r.requests_per_s_per_replica))
    per_1m = r.usd_per_month[1] / (200 * 500 * 365.25 * 86400 / 12) * 1e6
    assert r.usd_per_1m_output_tokens[1] == pytest.approx(per_1m)


@pytest.mark.parametrize("text,expected", [("1,2,4", [1, 2, 4]), ("1:4", [1, 2, 3, 4]), ("128:1024:x2", [128, 256, 512, 1024]),
                                           ("1:9:4", [1, 5, 9]), ("4,1:2", [1, 2, 4])])
def test_parse_axis(text: str, expected: list[int]) -> None:
    assert parse_axis(text, "--x").tolist() == expected


@pytest.mark.parametrize("text", ["0", "4:1", "1:8:x1", "a", "1:8:x"])
def test_parse_axis_refuses(text: str) -> None:
    with pytest.raises(InputError, match="--x"):
        parse_axis(text, "--x")


def test_sweep_counts_every_point_and_matches_chunking() -> None:
    model = CAT.get_model("llama-3.1-8b")
    cands = candidates([CAT.get_hardware("h100-sxm"), CAT.get_hardware("mi300x")], ["bf16", "fp8"])
    axes = {"tp": parse_axis("1,2", "t"), "pp": parse_axis("1", "p"), "ep": parse_axis("1", "e"),
            "batch": parse_axis("1:64", "b"), "input_len": parse_axis("128:2048:x2", "i"), "output_len": parse_axis("256", "o")}
    seen: list[int] = []
    a = sweep(model, cands, axes, catalog=CAT, usd_per_chip_s=[1e-3] * 4, top_k=5, chunk=97, sink=lambda r: seen.append(len(r["ok"])))
    b = sweep(model, cands, axes, catalog=CAT, usd_per_chip_s=[1e-3] * 4, top_k=5, chunk=1 << 20)
    assert a.evaluated == b.evaluated == sum(seen) == 4 * 2 * 64 * 5
    assert a.feasible == b.feasible
    assert np.allclose(a.top["usd_per_1m_output_tokens"], b.top["usd_per_1m_output_tokens"])
    assert np.all(np.diff(a.top["usd_per_1m_output_tokens"]) >= 0)
