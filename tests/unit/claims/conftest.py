"""Fixtures: the shipped catalog, and a helper that writes a claim file and audits it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcobench.claims import ClaimResult, audit_claims, builtin_dir, load_claims
from tcobench.catalog import Catalog, load_catalog

HEAD = '[source.t]\ntitle = "test source"\n'


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The catalog as ``audit`` sees it: its designs derived into hardware, so claims may name a designed chip."""
    from tcobench.api.silicon import with_designs

    return with_designs(load_catalog())


@pytest.fixture(scope="session")
def builtin(catalog: Catalog) -> dict[str, ClaimResult]:
    claims = load_claims([builtin_dir()], catalog)
    assert not claims.invalid, claims.invalid
    return {r.id: r for r in audit_claims(claims.claims, catalog)}


@pytest.fixture
def audit_text(tmp_path: Path, catalog: Catalog):  # type: ignore[no-untyped-def]
    """Write TOML (a [source.t] table is prepended) and return (results by id, invalid messages)."""

    def run(text: str) -> tuple[dict[str, ClaimResult], list[str]]:
        path = tmp_path / "claims.toml"
        path.write_text(HEAD + text)
        got = load_claims([path], catalog)
        builtin_claims = load_claims([builtin_dir()], catalog).claims
        results = audit_claims(got.claims, catalog, library=builtin_claims)
        return {r.id: r for r in results}, [i.message for i in got.invalid]

    return run
