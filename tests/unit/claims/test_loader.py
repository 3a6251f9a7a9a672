"""Claim files: precise errors for bad claims, and one bad claim never stops the others."""

from __future__ import annotations

from tests.unit.claims.samples import GOOD


def _claim(cid: str, **over: str) -> str:
    fields = {"statement": '"s"', "source": '"t"', "date": '"2023"', "kind": '"weight-reuse"', "claimed": "5e6",
              "unit": '"1/token"'} | over
    body = "\n".join(f"{k} = {v}" for k, v in fields.items() if v)
    return f"\n[claim.{cid}]\n{body}\ninputs = {{ throughput = \"200 token/s\", clock = \"1e9 /s\" }}\n"


def test_typo_in_field_gets_did_you_mean_and_others_still_run(audit_text) -> None:
    results, invalid = audit_text(GOOD + _claim("typo", modle='"gpt-3-175b"'))
    assert "good" in results and results["good"].verdict == "consistent"
    assert len(invalid) == 1
    assert "claim.typo.modle: unknown key; did you mean 'model'?" in invalid[0]


def test_unknown_unit_is_named(audit_text) -> None:
    _, invalid = audit_text(_claim("badunit", unit='"tokn/s"'))
    assert len(invalid) == 1 and "claim.badunit.unit" in invalid[0] and "'tokn/s'" in invalid[0]


def test_unknown_kind_gets_close_match(audit_text) -> None:
    _, invalid = audit_text(_claim("k", kind='"weight-resue"'))
    assert invalid == [invalid[0]] and "did you mean 'weight-reuse'?" in invalid[0]


def test_unknown_input_name_gets_close_match(audit_text) -> None:
    results, invalid = audit_text(GOOD.replace("achieved =", "acheived ="))
    assert not results
    assert "claim.good.inputs.acheived: unknown input; did you mean 'achieved'?" in invalid[0]


def test_undefined_source_is_an_error(audit_text) -> None:
    _, invalid = audit_text(_claim("s", source='"nvidia-a100-datasheeet"'))
    assert "did you mean 'nvidia-a100-datasheet'?" in invalid[0]


def test_catalog_source_ids_may_be_cited(audit_text) -> None:
    results, invalid = audit_text(_claim("s", source='"nvidia-a100-datasheet"'))
    assert not invalid and results["s"].verdict == "consistent"


def test_missing_required_field(audit_text) -> None:
    _, invalid = audit_text(_claim("m", claimed=""))
    assert any("claim.m.claimed: required key is missing" in m for m in invalid)


def test_bad_date(audit_text) -> None:
    _, invalid = audit_text(_claim("d", date='"July 2023"'))
    assert any("claim.d.date" in m and "YYYY" in m for m in invalid)


def test_dotted_id_hint(audit_text) -> None:
    _, invalid = audit_text(_claim("v1.0"))
    assert any('quote the id: [claim."v1.0"]' in m for m in invalid)


def test_input_needs_value_or_claim(audit_text) -> None:
    _, invalid = audit_text(GOOD.replace('achieved = "74 TFLOP/s"', 'achieved = { note = "x" }'))
    assert any("exactly one of 'value'" in m for m in invalid)


def test_not_toml(audit_text) -> None:
    _, invalid = audit_text("[claim.x\n")
    assert invalid and "not valid TOML" in invalid[0]


def test_typo_inside_an_input_table(audit_text) -> None:
    _, invalid = audit_text(GOOD.replace('achieved = "74 TFLOP/s"', 'achieved = { vaule = "74 TFLOP/s" }'))
    assert any("claim.good.inputs.achieved.vaule: unknown key; did you mean 'value'?" in m for m in invalid)
