"""Every price in the shipped catalog is dated and sourced, every own price says whether the host is in it, and the
rent rates added from public price lists load as the per-chip-hour figures their sources give."""

import re

import pytest

from tcobench.catalog import load_catalog
from tcobench.catalog.schema import CloudRate, Figure

CAT = load_catalog()
HARDWARE = sorted(CAT.hardware)
DATE = re.compile(r"^\d{4}(-\d{2}){0,2}$")


def _purchases() -> list[tuple[str, Figure]]:
    return [(hw, CAT.get_hardware(hw).price.purchase) for hw in HARDWARE if CAT.get_hardware(hw).price.purchase]


def _rates() -> list[tuple[str, int, CloudRate]]:
    return [(hw, i, r) for hw in HARDWARE for i, r in enumerate(CAT.get_hardware(hw).cloud)]


@pytest.mark.parametrize(("hw", "price"), _purchases())
def test_every_purchase_price_is_dated_sourced_and_says_whether_it_includes_the_host(hw: str, price: Figure) -> None:
    assert price.date and DATE.match(price.date), (hw, price.date)
    source = CAT.sources[price.source]
    assert source.title and (source.url or source.note), (hw, price.source)
    assert re.search(r"host|server", price.note or "", re.I), f"{hw}: the note must say whether the host is included"


@pytest.mark.parametrize(("hw", "i", "rate"), _rates())
def test_every_cloud_rate_is_dated_sourced_and_per_chip(hw: str, i: int, rate: CloudRate) -> None:
    assert rate.date and DATE.match(rate.date), (hw, i, rate.date)
    source = CAT.sources[rate.source]
    assert source.title and (source.url or source.note), (hw, i, rate.source)
    assert 0.01 < rate.rate.value * 3600 < 100, f"{hw} cloud[{i}]: not a per-chip-hour rate"


def test_the_chips_with_no_price_at_all_are_the_gaps_docs_cost_md_lists() -> None:
    """A chip loses its price only on purpose. A priced system (ipu-pod16, andromeda) prices its chip's own basis."""
    system_priced = {s.accelerator for s in CAT.systems.values() if s.price is not None}
    unpriced = {hw for hw in HARDWARE
                if not CAT.get_hardware(hw).price.purchase and not CAT.get_hardware(hw).cloud and hw not in system_priced}
    assert unpriced == {"cs-3", "groq-lpu", "tpu-v7"}


@pytest.mark.parametrize(("hw", "kit_usd"), [("gaudi2", 65_000), ("gaudi3", 125_000)])
def test_gaudi_prices_are_intels_computex_2024_kit_list_prices_per_accelerator(hw: str, kit_usd: int) -> None:
    price = CAT.get_hardware(hw).price.purchase
    assert price is not None and price.source == "intel-computex-2024-gaudi-kit-prices"
    assert price.value == pytest.approx(kit_usd / 8)
    assert f"${kit_usd:,}" in (price.note or "") and f"${kit_usd:,}" in (CAT.sources[price.source].locator or "")


@pytest.mark.parametrize("hw", ["tpu-v5e", "tpu-v5p", "tpu-v6e", "tpu-v7"])
def test_google_tpus_have_no_purchase_price_and_say_why(hw: str) -> None:
    h = CAT.get_hardware(hw)
    assert h.price.purchase is None
    assert "no purchase price" in (h.note or "")


@pytest.mark.parametrize(
    ("hw", "provider", "per_chip_hour"),
    [
        ("a100-sxm-80gb", "Hugging Face Inference Endpoints, aws nvidia-a100 x1", 2.50),
        ("a100-sxm-80gb", "Hugging Face Inference Endpoints, gcp nvidia-a100 x1", 3.60),
        ("l40s", "Hugging Face Inference Endpoints, aws nvidia-l40s x1", 1.80),
        ("l40s", "Runpod Serverless, 'L40, L40S, 6000 Ada PRO' flex worker", 0.00053 * 3600),
        ("inferentia2", "Hugging Face Inference Endpoints, aws inf2 x1", 0.75),
        ("inferentia2", "Hugging Face Inference Endpoints, aws inf2 x12", 12 / 12),
        ("rtx-4090", "Runpod Serverless, 4090 PRO flex worker", 0.00031 * 3600),
        ("b200", "Runpod Serverless, B200 flex worker", 0.00240 * 3600),
        ("gb200", "CoreWeave GB200 NVL72 on-demand", 42.00 / 4),
        ("gb200", "AWS u-p6e-gb200x72 EC2 Capacity Block", 761.904 / 72),
        ("gb200", "Oracle OCI BM.GPU.GB200.4 pay-as-you-go", 16.00),
        ("gb300", "Oracle OCI BM.GPU.GB300.4 pay-as-you-go", 18.00),
        ("mi355x", "Oracle OCI BM.GPU.MI355X.8 pay-as-you-go", 8.60),
        ("h100-pcie", "Lambda 1x H100 PCIe on-demand", 3.29),
        ("h100-pcie", "RunPod H100 PCIe, Secure Cloud", 2.89),
        ("trainium2", "AWS trn2.48xlarge on-demand", 35.76 / 16),
    ],
)
def test_added_rates_load_as_their_sources_per_chip_hour(hw: str, provider: str, per_chip_hour: float) -> None:
    (rate,) = [r for r in CAT.get_hardware(hw).cloud if r.provider == provider]
    assert rate.rate.value * 3600 == pytest.approx(per_chip_hour, rel=1e-9)


@pytest.mark.parametrize(
    ("hw", "bytes_per_s"),
    [
        ("mi300x", 400e9 / 8),  # Azure ND MI300X v5: 8 x 400 Gb/s NDR for 8 GPUs
        ("tpu-v4", 81e12 / 6144 / 8),  # PaLM: 81 Tb/s aggregate DCN burst over 6144 chips (1536 hosts)
    ],
)
def test_scale_out_links_load_per_chip_per_direction(hw: str, bytes_per_s: float) -> None:
    link = CAT.get_hardware(hw).scale_out
    assert link.bandwidth is not None and link.bandwidth.source in CAT.sources
    assert link.bandwidth.value == pytest.approx(bytes_per_s, rel=0.01)
