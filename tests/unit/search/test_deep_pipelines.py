"""SRAM-only chips need hundreds of chips for a 70B model: past 512 the search doubles pipeline stages; below it the
grid every GPU-class chip is searched on is unchanged."""

from __future__ import annotations

import tcobench
from tcobench.catalog import load_catalog
from tcobench.search.grid import Layouts


def test_the_grid_stops_at_8_stages_up_to_512_chips_and_goes_deeper_past_it() -> None:
    model = load_catalog().get_model("llama-2-70b")
    assert Layouts.grid(model, max_chips=64).pp.max() == 8
    assert Layouts.grid(model, max_chips=512).pp.max() == 8
    deep = Layouts.grid(model, max_chips=2048)
    assert deep.pp.max() == 64  # powers of two up to the model's 80 layers
    assert deep.chips.max() <= 2048


def test_groq_and_gc200_serve_llama_2_70b_with_their_sourced_links() -> None:
    r = tcobench.compare("llama-2-70b", ["groq-lpu", "gc200"], workload="chat", max_chips=1024)
    rows = {row.hardware: row for row in r.rows}
    for hw in ("groq-lpu", "gc200"):
        dep = rows[hw].deployment
        assert dep is not None, rows[hw].excluded_reason
        assert dep.pp > 8 and dep.chips > 64
