"""Training workloads known by their FLOPs per sample (perf/samples.py): the profiles' counts against a real PyTorch
model and the architecture, the step's equations by hand, bad layouts, the CLI and the Python call."""

from __future__ import annotations

import json
import math

import pytest

from tcobench.catalog import load_catalog
from tcobench.errors import InputError
from tcobench.perf.samples import OPTIMIZER_BYTES, eval_time, profile, profiles, train_samples


@pytest.fixture(scope="module")
def cat():  # type: ignore[no-untyped-def]
    return load_catalog()


def test_every_profile_figure_cites_a_source_the_file_defines() -> None:
    for p in profiles().values():
        for fig in (p.forward_flop, p.train_multiplier, p.params, p.reference_batch, *p.extra.values()):
            assert fig.source in p.sources, (p.id, fig.source)
            assert p.sources[fig.source]["title"]
        assert p.train_flop == p.forward_flop.value * p.train_multiplier.value


def _resnet50_v15():  # type: ignore[no-untyped-def]
    """ResNet-50 v1.5 (stride 2 in the 3x3 convolution of each downsampling block), as torchvision builds it."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Bottleneck(nn.Module):
        def __init__(self, cin: int, mid: int, stride: int) -> None:
            super().__init__()
            cout = mid * 4
            self.body = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                                      nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(),
                                      nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
            self.down = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

        def forward(self, x):  # type: ignore[no-untyped-def]
            return torch.relu(self.body(x) + self.down(x))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for mid, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, mid, stride if i == 0 else 1))
            cin = mid * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return torch, nn.Sequential(*layers).to("meta")


def test_resnet50_profile_matches_pytorchs_count_of_a_real_model() -> None:
    """PyTorch's FlopCounterMode on ResNet-50 v1.5 (meta tensors: shapes only): the parameters, the forward FLOPs and
    the training multiplier of the profile."""
    torch, model = _resnet50_v15()
    from torch.utils.flop_counter import FlopCounterMode

    p = profile("resnet-50")
    assert sum(t.numel() for t in model.parameters()) == p.params.value
    x = torch.empty(1, 3, 224, 224, device="meta")
    with FlopCounterMode(display=False) as fwd, torch.no_grad():
        model(x)
    assert fwd.get_total_flops() == pytest.approx(p.forward_flop.value, rel=0.001)
    with FlopCounterMode(display=False) as both:
        model(x).sum().backward()
    ratio = both.get_total_flops() / fwd.get_total_flops()
    assert 2.9 < ratio <= p.train_multiplier.value  # the first layer's input gradient is skipped


def test_bert_profile_follows_from_the_architecture(cat) -> None:  # type: ignore[no-untyped-def]
    """The bert-large forward count from the catalog's BERT-large shape: 24 h^2 + 4 T h per token and layer, the MLM
    head at 15% of the tokens; and PyTorch counts the same for one encoder layer."""
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    m = cat.get_model("bert-large")
    p = profile("bert-large")
    tokens = p.extra["mean_tokens"].value
    h, layers, vocab = m.hidden, m.layers, m.vocab
    per_layer_token = 24 * h * h + 4 * tokens * h
    head = 0.15 * tokens * 2 * (h * h + h * vocab)
    assert tokens * layers * per_layer_token + head == pytest.approx(p.forward_flop.value, rel=0.001)
    layer = torch.nn.TransformerEncoderLayer(h, m.heads, dim_feedforward=4 * h, batch_first=True, device="meta")
    x = torch.empty(1, int(tokens), h, device="meta")
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        layer(x)
    assert fc.get_total_flops() == pytest.approx(tokens * per_layer_token, rel=0.001)


def test_resnet50_operators_have_pytorchs_shapes() -> None:
    """perf/layer_ops's ResNet-50 against the PyTorch model: every convolution's input and output elements (the
    traffic the roofline counts), its FLOPs summing to the profile's forward, and the backward without the stem's
    input gradient."""
    torch, model = _resnet50_v15()
    sizes: list[tuple[int, int]] = []
    for mod in model.modules():
        if isinstance(mod, torch.nn.Conv2d):
            mod.register_forward_hook(lambda m, i, o: sizes.append((i[0].numel(), o.numel())))
    with torch.no_grad():
        model(torch.empty(1, 3, 224, 224, device="meta"))
    p = profile("resnet-50")
    convs = [o for o in p.ops if o.kind == "conv" and o.name.endswith("forward")]
    assert len(convs) == len(sizes) == 53
    assert sorted(o.bytes for o in convs) == sorted(2.0 * (i + o) for i, o in sizes)
    assert sum(o.flop for o in p.ops if o.forward) == pytest.approx(p.forward_flop.value, rel=0.001)
    assert sum(o.flop for o in p.ops) / p.forward_flop.value == pytest.approx(3 - 2 * 118013952 / 8.178e9, rel=0.001)
    assert sum(o.bytes for o in p.ops if o.kind == "elementwise") == pytest.approx(137.6e6, rel=0.01)


def test_bert_operators_sum_to_the_profile(cat) -> None:  # type: ignore[no-untyped-def]
    p = profile("bert-large")
    assert sum(o.flop for o in p.ops if o.forward) == pytest.approx(p.forward_flop.value, rel=0.001)
    assert sum(o.flop for o in p.ops) == pytest.approx(p.train_flop, rel=0.001)
    h, tokens = 1024, p.extra["mean_tokens"].value
    assert sum(o.bytes for o in p.ops if o.kind == "elementwise") == pytest.approx(42 * h * 2 * tokens * 24)


def test_roofline_per_operator_by_hand(cat) -> None:  # type: ignore[no-untyped-def]
    """Each operator at the larger of its compute and memory times; the memory-bound ones are the "memory" part."""
    p, hw = profile("resnet-50"), cat.get_hardware("a100-sxm-80gb")
    t = train_samples(p, hw, chips=8, global_batch=3264, precision="fp16", catalog=cat)
    rate, bw = 312e12 * t.efficiency, 2.039e12 * 0.8
    times = [(408 * o.flop / rate, (408 * o.bytes + o.weight_bytes) / bw) for o in p.ops]
    assert t.parts["compute"] == pytest.approx(sum(c for c, m in times if c >= m))
    assert t.parts["memory"] == pytest.approx(sum(m for c, m in times if m > c))
    assert t.forward_s_per_sample == pytest.approx(sum(max(tm) for o, tm in zip(p.ops, times, strict=True) if o.forward) / 408 / 8)
    assert t.parts["memory"] > 0.3 * t.parts["compute"]  # BN/ReLU and the 64-channel convolutions are memory-bound
    ipu = train_samples(p, cat.get_hardware("gc200"), chips=16, global_batch=1920, accumulation=6, precision="fp16", catalog=cat)
    assert ipu.parts["memory"] < 0.05 * ipu.parts["compute"]  # 47.5 TB/s of SRAM: nearly all compute-bound


def test_bert_pretraining_profile_is_devlins_phase_mix(cat) -> None:  # type: ignore[no-untyped-def]
    """90% of the steps at 128 tokens, 10% at 512 (Devlin et al. 2019, A.2), padding computed, MLM head at 15%."""
    m = cat.get_model("bert-large")
    h, layers, vocab = m.hidden, m.layers, m.vocab

    def forward(tokens: int) -> float:
        return tokens * layers * (24 * h * h + 4 * tokens * h) + 0.15 * tokens * 2 * (h * h + h * vocab)

    p = profile("bert-large-pretrain")
    assert 0.9 * forward(128) + 0.1 * forward(512) == pytest.approx(p.forward_flop.value, rel=0.001)
    assert p.extra["reference_samples"].value == 1_000_000 * p.reference_batch.value


def test_step_equations_by_hand(cat) -> None:  # type: ignore[no-untyped-def]
    """A profile without operators (bert-large-pretrain): every FLOP at the GEMM rate."""
    p = profile("bert-large-pretrain")
    assert not p.ops
    hw = cat.get_hardware("gc200")
    t = train_samples(p, hw, chips=16, global_batch=3072, pp=4, accumulation=192, precision="fp16", imbalance=1.1667,
                      catalog=cat)
    assert (t.dp, t.micro_batch) == (4, 4)
    rate = 250e12 * t.efficiency
    stage = 4 * p.train_flop / (4 * rate) * 1.1667
    assert t.parts["compute"] == pytest.approx(192 * stage) and t.parts["memory"] == 0.0
    assert t.parts["pp_bubble"] == pytest.approx(3 * stage)
    assert t.parts["optimizer"] == pytest.approx(p.params.value / 4 * OPTIMIZER_BYTES / (47.5e12 * 0.8))
    assert t.step_time_s == pytest.approx(sum(t.parts.values()))
    assert t.mfu == pytest.approx(3072 * p.train_flop / (t.step_time_s * 16 * 250e12))
    assert eval_time(p, t, 10_000) == pytest.approx(10_000 * stage / 4 / 4 / 3)  # forward only: a third of training


def test_recomputation_costs_one_forward_and_counts_in_hfu_only(cat) -> None:  # type: ignore[no-untyped-def]
    p, hw = profile("resnet-50"), cat.get_hardware("gc200")
    plain = train_samples(p, hw, chips=16, global_batch=1920, accumulation=6, precision="fp16", catalog=cat)
    full = train_samples(p, hw, chips=16, global_batch=1920, accumulation=6, precision="fp16", recompute="full", catalog=cat)
    assert plain.parts["recompute"] == 0.0
    assert full.parts["recompute"] == pytest.approx(full.forward_s_per_sample * 1920)  # the forward operators once more
    assert plain.parts["compute"] / 4 < full.parts["recompute"] < plain.parts["compute"] / 2
    assert full.mfu < plain.mfu and full.hfu == pytest.approx(full.mfu * 4 / 3)
    assert not full.validated and profile("bert-large").compute == "matmul"


def test_more_replicas_are_faster_but_not_perfectly(cat) -> None:  # type: ignore[no-untyped-def]
    p, hw = profile("bert-large"), cat.get_hardware("a100-sxm-80gb")
    one = train_samples(p, hw, chips=8, global_batch=448, precision="fp16", catalog=cat)
    many = train_samples(p, hw, chips=64, global_batch=448 * 8, precision="fp16", catalog=cat)
    assert one.samples_per_s < many.samples_per_s < 8 * one.samples_per_s
    assert (one.link, many.link) == ("scale-up", "scale-out")


@pytest.mark.parametrize(("kw", "flag", "hint"), [
    ({"chips": 16, "pp": 3}, "{pp}", "{pp} 2"),
    ({"chips": 16, "global_batch": 100}, "{global_batch}", "{global_batch} 96"),
    ({"chips": 16, "recompute": "selective"}, "{recompute}", "'full'"),
])
def test_a_layout_that_cannot_exist_names_the_flag_and_a_value_that_works(cat, kw, flag, hint) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as err:
        train_samples(profile("bert-large"), cat.get_hardware("gc200"), precision="fp16", catalog=cat, **kw)
    assert flag in err.value.template and hint in err.value.template


def test_unknown_workload_suggests_the_close_one() -> None:
    with pytest.raises(InputError, match="did you mean 'resnet-50'"):
        profile("resnet50")


def test_train_workload_prints_time_dollars_energy_and_breakdown(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("train", "--workload", "bert-large", "--hardware", "h100-sxm", "--chips", "8", "--samples", "3e6")
    assert r.code == 0, r.err
    for word in ("time to train", "$ to train (own)", "$ to train (rent)", "energy", "forward + backward",
                 "gradient all-reduce", "track record: on 1 published NVIDIA bert-large result(s) (MLPerf v1.0) the model is +"):
        assert word in r.out, word


def test_train_workload_json_is_the_python_call(cli) -> None:  # type: ignore[no-untyped-def]
    import tcobench

    r = cli("train", "--workload", "resnet-50", "--hardware", "gc200", "--chips", "16", "--samples", "1.28e6",
            "--global-batch", "1920", "--accumulation", "6", "--recompute", "full", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    call = tcobench.train_workload("resnet-50", "gc200", chips=16, samples=1.28e6, global_batch=1920, accumulation=6,
                                   recompute="full").to_dict()
    assert doc == json.loads(json.dumps(call))
    assert doc["precision"] == "fp16"  # the GC200 has no bf16 peak
    assert doc["steps"] == math.ceil(1.28e6 / 1920)
    assert doc["time_to_train_s"] == pytest.approx(doc["steps"] * doc["step_time_s"])
    assert doc["efficiency"]["validated"] is False and doc["memory"]["fits"] is None
    low, likely, high = doc["usd_to_train"]["own"]
    assert 0 < low <= likely <= high


@pytest.mark.parametrize(("args", "flag"), [
    (["--workload", "bert-large", "--hardware", "gc200", "--chips", "16"], "--samples"),
    (["--workload", "bert-large", "--model", "llama-2-7b", "--hardware", "gc200", "--chips", "16", "--samples", "1e6"], "--model"),
    (["--workload", "bert-large", "--hardware", "gc200", "--chips", "16", "--samples", "1e6", "--tp", "2"], "--tp"),
    (["--workload", "bert-large", "--hardware", "gc200", "--chips", "16", "--samples", "-3"], "--samples"),
    (["--workload", "bert-large", "--hardware", "gc200", "--chips", "16", "--samples", "1e6", "--pp", "3"], "--pp 3"),
    (["--model", "llama-2-7b", "--hardware", "h100-sxm", "--chips", "8", "--samples", "1e6"], "--samples"),
])
def test_bad_workload_flags_exit_2_with_one_line_naming_the_flag(cli, args, flag) -> None:  # type: ignore[no-untyped-def]
    r = cli("train", *args)
    assert r.code == 2, r.out
    assert flag in r.err and len(r.err.strip().splitlines()) == 1, r.err


def test_validate_reports_the_workload_rows_apart_with_their_mlperf_sources(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("validate", "--json")
    doc = json.loads(r.out)["training"]["workloads"]
    refs = sorted(row["ref"] for row in doc["rows"])
    assert refs == ["TRN-01", "TRN-02", "TRN-03", "TRN-04", "TRN-05", "TRN-06"]
    for row in doc["rows"]:
        assert row["error"] == pytest.approx(row["published"] / row["predicted"] - 1)
        assert "training_results_v1.0" in row["source"] or "/results/" in row["source"]
    assert doc["summary"]["compared"] == 6
    assert "vendor x workload: Graphcore bert-large" in doc["summary"]["groups"]
    text = cli("validate", "--training").out
    assert "workloads that are not LLMs" in text and "mlp10-rn50-dgxa100" in text


def test_an_evaluation_on_the_training_graph_costs_whole_training_steps(cat) -> None:  # type: ignore[no-untyped-def]
    """PopART's BERT evaluates on its training graph, one sequence per pack, padded to whole batches: a row with
    ``eval_batch`` pays evals x ceil(eval_samples / eval_batch) training steps; without it, forward passes."""
    from tcobench.perf.validate_workloads import command, eval_steps, load_rows, predict

    rows = {r.id: r for r in load_rows()}
    pod16 = rows["mlp10-bert-ipu-pod16"]
    assert pod16.eval_batch == 1536 and pod16.recompute == "full"
    t, seconds = predict(pod16, cat)
    steps = math.ceil(pod16.samples / t.global_batch) + pod16.evals * math.ceil(10000 / 1536)  # 7 steps per evaluation
    assert eval_steps(pod16) == pytest.approx(15.5 * 7)
    assert seconds == pytest.approx(steps * t.step_time_s, rel=1e-12)
    forward = pod16.model_copy(update={"eval_batch": None})
    t2, seconds2 = predict(forward, cat)
    assert seconds2 == pytest.approx(math.ceil(pod16.samples / t2.global_batch) * t2.step_time_s
                                     + eval_time(profile("bert-large"), t2, pod16.evals * pod16.eval_samples), rel=1e-12)
    assert seconds > seconds2  # a training step per 1536 sequences costs more than their forward passes
    assert "--eval-samples 0" in command(pod16) and f"--samples {pod16.samples + 15.5 * 7 * 3072:.0f}" in command(pod16)
