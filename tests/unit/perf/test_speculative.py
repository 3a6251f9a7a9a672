"""Speculative decoding: k drafts per step accepted with probability a; the target verifies k + 1 tokens per step."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcobench
from tcobench.errors import InputError
from tcobench.perf import Engine


@pytest.mark.parametrize(("k", "a", "expected"), [(0, 0.9, 1.0), (3, 0.0, 1.0), (3, 1.0, 4.0), (1, 0.5, 1.5),
                                                  (3, 0.5, 1.875), (4, 0.8, 3.3616)])
def test_tokens_per_step_is_leviathans_expectation(k: int, a: float, expected: float) -> None:
    # (1 - a^(k+1)) / (1 - a): the accepted prefix of k drafts plus the target's own token
    assert Engine(spec_tokens=k, acceptance=a).tokens_per_step() == pytest.approx(expected)


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 6), a=st.floats(0.0, 0.95), batch=st.sampled_from([1, 8, 64]))
def test_better_acceptance_never_slows_a_token_and_prefill_is_untouched(k: int, a: float, batch: int) -> None:
    base = dict(tp=4, batch=batch, precision="fp8", input_len=1000, output_len=300)
    plain = tcobench.predict("llama-3.1-70b", "h100-sxm", **base)
    lo = tcobench.predict("llama-3.1-70b", "h100-sxm", spec_tokens=k, acceptance=a, **base)
    hi = tcobench.predict("llama-3.1-70b", "h100-sxm", spec_tokens=k, acceptance=min(1.0, a + 0.05), **base)
    assert hi.tpot_s <= lo.tpot_s
    assert lo.ttft_s == plain.ttft_s
    nothing = tcobench.predict("llama-3.1-70b", "h100-sxm", spec_tokens=k, acceptance=0.0, **base)
    assert nothing.tpot_s > plain.tpot_s  # drafts that are never accepted only cost


def test_drafts_show_in_the_breakdown_and_the_document() -> None:
    p = tcobench.predict("llama-3.1-70b", "h100-sxm", tp=4, batch=8, precision="fp8", spec_tokens=3, acceptance=0.7,
                         explain=True)
    assert p.speculative == {"spec_tokens": 3, "acceptance": 0.7, "draft": "mtp", "tokens_per_step": pytest.approx(2.533)}
    draft_ops = {o.name: o.count for o in p.ops if o.name.startswith("draft_")}
    assert draft_ops["draft_ffn"] == 3  # one layer, three times: one multi-token-prediction layer per draft token
    assert p.to_dict()["speculative"]["draft"] == "mtp"
    small = tcobench.predict("llama-3.1-70b", "h100-sxm", tp=4, batch=8, precision="fp8", spec_tokens=3, acceptance=0.7,
                             draft="llama-3.1-8b", explain=True)
    assert {o.name: o.count for o in small.ops}["draft_ffn"] == 3 * 32  # the 8B draft's 32 layers, three times
    assert "speculative" not in tcobench.predict("llama-3.1-70b", "h100-sxm", tp=4).to_dict()


@pytest.mark.parametrize(("kw", "match"), [({"spec_tokens": 3}, "acceptance missing: with spec_tokens 3"),
                                           ({"spec_tokens": 3, "acceptance": 1.5}, "acceptance 1.5"),
                                           ({"acceptance": 0.5}, "give spec_tokens too"),
                                           ({"draft": "mtp"}, "give spec_tokens too"),
                                           ({"spec_tokens": -1}, "spec_tokens must be 0")])
def test_an_incomplete_speculative_setting_is_refused_by_name(kw: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        tcobench.predict("llama-3.1-70b", "h100-sxm", tp=4, **kw)  # type: ignore[arg-type]
