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
    assert {16, 32, 64} <= set(deep.pp) and deep.pp.max() == 80  # powers of two below 80 layers, then one per stage
    assert deep.chips.max() <= 2048


def test_groq_and_gc200_serve_llama_2_70b_with_their_sourced_links() -> None:
    r = tcobench.compare("llama-2-70b", ["groq-lpu", "gc200"], workload="chat", max_chips=1024)
    rows = {row.hardware: row for row in r.rows}
    for hw in ("groq-lpu", "gc200"):
        dep = rows[hw].deployment
        assert dep is not None, rows[hw].excluded_reason
        assert dep.pp > 8 and dep.chips > 64


def test_past_512_chips_one_layer_per_stage_is_tried_too() -> None:
    gpt3 = load_catalog().get_model("gpt-3-175b")  # 96 layers: the doubling stops at 64
    assert 96 in set(Layouts.grid(gpt3, max_chips=4096).pp) and 96 not in set(Layouts.grid(gpt3, max_chips=512).pp)


def test_a_chip_without_links_is_not_said_to_miss_memory_on_chips_it_could_never_use() -> None:
    """A linkless chip runs on one chip only: "does not fit on up to 4096 chips" blamed memory for the missing link."""
    from tcobench.catalog.schema import Link

    cat = load_catalog()
    gc = cat.get_hardware("gc200")
    bare = gc.model_copy(update={"id": "gc200-linkless", "scale_up": Link(name="none"), "scale_out": Link(name="none")})
    r = tcobench.compare("llama-2-70b", [bare], workload="chat", max_chips=4096)
    why = r.rows[0].excluded_reason or ""
    assert why.startswith("does not fit in memory on up to 1 chip at any batch; more chips: ")
    assert "no interconnect bandwidth" in why
