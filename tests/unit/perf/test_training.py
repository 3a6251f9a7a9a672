"""The training model: invariants of a step, the vectorised core against one configuration at a time, memory by
ZeRO stage against Megatron's bytes-per-parameter table, and `tcobench train` as a user runs it."""

import json

import numpy as np
import pytest

from tcobench.catalog import load_catalog
from tcobench.perf.chip import Chip
from tcobench.perf.deployment import Formats
from tcobench.perf.efficiency import resolve
from tcobench.perf.training import Parallel, TrainBatch, step
from tcobench.perf.stacks import framework
from tcobench.perf.transformer import shape

CAT = load_catalog()


def setup(model: str = "llama-2-7b", hw: str = "h100-sxm", precision: str = "bf16"):
    h = CAT.get_hardware(hw)
    return shape(CAT.get_model(model)), Chip.of(h, precision, resolve(h, CAT.efficiency))


def one(s, chip, recompute=1.0, **kw):
    par = {k: kw.pop(k) for k in ("tp", "pp", "dp", "cp", "ep", "vpp", "zero") if k in kw}
    batch = TrainBatch(kw.pop("micro_batch", 1.0), kw.pop("global_batch", 256.0), kw.pop("seq_len", 4096.0))
    return step(s, chip, Parallel(**par), batch, Formats(2.0, 2.0, 2.0), framework("megatron"), recompute=recompute)


def test_parts_sum_to_the_step_and_utilisation_is_physical() -> None:
    s, chip = setup("llama-2-70b")
    r = one(s, chip, tp=8.0, pp=4.0, dp=8.0, vpp=2.0, global_batch=512.0)
    assert float(r.code) == 0
    assert sum(float(v) for v in r.parts.values()) == pytest.approx(float(r.step_time_s), rel=1e-9)
    assert 0 < float(r.mfu) <= float(r.hfu) < 1


def test_model_flops_are_six_per_parameter_per_token_plus_attention() -> None:
    s, chip = setup()
    r = one(s, chip, dp=64.0, global_batch=256.0)
    tokens = 256 * 4096
    six_n = 6 * s.active_params * tokens
    assert six_n < float(r.model_flops_per_step) < 1.2 * six_n  # causal attention at 4k adds ~8 % for a 7B model


def test_recomputation_trades_time_for_memory() -> None:
    s, chip = setup("llama-2-13b")
    none, sel, full = (one(s, chip, recompute=rc, tp=2.0, dp=32.0, micro_batch=2.0) for rc in (0.0, 1.0, 2.0))
    assert float(none.step_time_s) < float(sel.step_time_s) < float(full.step_time_s)
    assert float(full.activation_bytes) < 0.2 * float(none.activation_bytes)
    assert float(full.hfu) > float(full.mfu) and float(none.hfu) == float(none.mfu)


def test_memory_per_parameter_matches_megatrons_table() -> None:
    """NVIDIA/Megatron-LM docs (distributed optimizer): bf16 params with fp32 main grads take 18 bytes per parameter,
    6 + 12/d with the distributed optimizer (ZeRO-1); ZeRO-2 shards the gradients, ZeRO-3 the weights too."""
    s, chip = setup()
    d = 16.0
    per_param = {}
    for zero in (0.0, 1.0, 2.0, 3.0):
        r = one(s, chip, dp=d, zero=zero, global_batch=16.0)
        per_param[zero] = (float(r.weights_bytes) + float(r.grads_bytes) + float(r.optimizer_bytes)) / s.total_params
    assert per_param[0.0] == pytest.approx(18.0)
    assert per_param[1.0] == pytest.approx(6 + 12 / d)
    assert per_param[2.0] == pytest.approx(2 + 16 / d)
    assert per_param[3.0] == pytest.approx(18 / d)


def test_more_data_parallel_chips_are_faster_but_not_perfectly() -> None:
    s, chip = setup()
    t = [float(one(s, chip, dp=d, global_batch=512.0).step_time_s) for d in (64.0, 128.0, 256.0)]
    assert t[0] > t[1] > t[2]
    assert t[0] / t[2] <= 4.0 + 1e-9


def test_the_pipeline_bubble_follows_narayanan() -> None:
    """(p - 1) / v stage times for m micro-batches (Narayanan et al. 2021, section 2.2)."""
    s, chip = setup("llama-2-70b")
    for vpp in (1.0, 2.0):
        r = one(s, chip, tp=8.0, pp=8.0, dp=4.0, vpp=vpp, global_batch=128.0)
        m = float(r.microbatches)
        stage = (float(r.step_time_s) - float(r.parts["dp_comm"]) - float(r.parts["optimizer"]) - float(r.parts["pp_send_recv"])) \
            / (m + 7.0 / vpp)
        assert float(r.parts["pp_bubble"]) == pytest.approx(7.0 / vpp * stage, rel=1e-9)


def test_the_grid_equals_one_configuration_at_a_time() -> None:
    s, chip = setup("mixtral-8x7b")
    tp = np.array([1.0, 2.0, 4.0, 8.0, 2.0, 4.0])
    pp = np.array([1.0, 2.0, 4.0, 1.0, 2.0, 2.0])
    ep = np.array([1.0, 2.0, 8.0, 1.0, 4.0, 2.0])
    rc = np.array([0.0, 1.0, 2.0, 1.0, 0.0, 2.0])
    dp = 64.0 / (tp * pp)
    grid = one(s, chip, recompute=rc, tp=tp, pp=pp, dp=dp, ep=ep, global_batch=256.0)
    for i in range(tp.size):
        single = one(s, chip, recompute=float(rc[i]), tp=float(tp[i]), pp=float(pp[i]), dp=float(dp[i]), ep=float(ep[i]),
                     global_batch=256.0)
        assert float(single.step_time_s) == pytest.approx(float(grid.step_time_s[i]), rel=1e-12)
        assert float(single.activation_bytes) == pytest.approx(float(grid.activation_bytes[i]), rel=1e-12)
        assert int(single.code) == int(grid.code[i])


def test_the_search_picks_the_most_tokens_per_second_not_the_shortest_step() -> None:
    """Layouts differ in their default global batch (a multiple of micro-batch x dp), so the shortest step can be the
    one doing the least work: Llama-2-70B on 384 H100s once picked tp 2 x dp 192 (768 sequences, 6.7 s, 468k tok/s)
    over a layout of 1,026 sequences at 577k tok/s. The pick must be at least as fast, in tokens/s, as every layout
    that fits, here checked against those two and two others."""
    from tcobench.perf.train import train

    m, h = CAT.get_model("llama-2-70b"), CAT.get_hardware("h100-sxm")
    best = train(m, h, chips=384, catalog=CAT)
    others = [dict(tp=1, pp=16, cp=4, vpp=4, zero=1, micro_batch=1, recompute="none"),
              dict(tp=2, pp=1, cp=1, zero=3, micro_batch=4, recompute="full"),
              dict(tp=8, pp=1, cp=1, zero=1, micro_batch=1, recompute="selective"),
              dict(tp=4, pp=2, cp=1, vpp=1, zero=1, micro_batch=2, recompute="none")]
    for fixed in others:
        o = train(m, h, chips=384, fixed=fixed, catalog=CAT)
        assert o.fits or fixed["tp"] != 1
        if o.fits:
            assert best.tokens_per_s >= o.tokens_per_s * (1 - 1e-9), fixed


def test_the_default_global_batch_stays_near_the_recipe_when_a_layout_can() -> None:
    """Without --global-batch each layout takes the multiple of micro-batch x dp nearest 4M tokens; on 1,024 chips
    a 7B model's micro-batch 4 x dp 1,024 makes that 16.8M tokens (4x the recipe), which a tokens/s objective
    would favour for its fewer gradient reductions. The search keeps to layouts within 1.5x of 4M tokens when one
    exists, and takes the user's global batch as given."""
    from tcobench.perf.train import DEFAULT_TOKENS_PER_STEP, train

    m, h = CAT.get_model("llama-2-7b"), CAT.get_hardware("h100-sxm")
    t = train(m, h, chips=1024, catalog=CAT)
    assert t.fits and t.global_batch * t.seq_len <= 1.5 * DEFAULT_TOKENS_PER_STEP
    big = train(m, h, chips=1024, global_batch=4096, catalog=CAT)
    assert big.fits and big.global_batch == 4096 and big.tokens_per_s > t.tokens_per_s


def test_invalid_layouts_are_flagged() -> None:
    from tcobench.perf.reasons import Reason

    s, chip = setup()
    assert int(one(s, chip, tp=3.0, dp=1.0).code) & Reason.TP_HEADS
    assert int(one(s, chip, dp=3.0, global_batch=256.0).code) & Reason.BATCH
    assert int(one(s, chip, cp=3.0, dp=1.0, seq_len=4096.0).code) & Reason.SEQUENCE
    assert int(one(s, chip, ep=2.0, dp=2.0).code) & Reason.EP_EXPERTS  # a dense model has no experts


# ---- the command ----------------------------------------------------------------------------------------------


def test_train_prints_time_dollars_energy_and_breakdown(cli) -> None:
    r = cli("train", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--chips", "256", "--tokens", "1e12", "--explain")
    assert r.code == 0, r.err
    for words in ("time to train", "$ to train (own)", "$ to train (rent)", "energy", "tokens per kWh", "memory per chip",
                  "one step, on the critical path", "forward pass of one micro-batch", "bytes per chip per step"):
        assert words in r.out


def test_train_json_carries_the_documented_fields(cli) -> None:
    r = cli("train", "--model", "llama-2-70b", "--hardware", "h100-sxm", "--chips", "64", "--tokens", "2e12", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    for key in ("step_time_s", "tokens_per_s", "mfu", "hfu", "time_to_train_s", "usd_to_train", "energy_kwh", "memory", "layout"):
        assert key in doc
    assert doc["memory"]["fits"] is True
    lo, mid, hi = doc["usd_to_train"]["rent"]
    assert lo <= mid <= hi
    assert doc["time_to_train_s"] == pytest.approx(doc["steps"] * doc["step_time_s"])
    assert doc["steps"] * doc["global_batch"] * doc["seq_len"] >= 2e12


def test_the_python_call_is_the_json_document(cli) -> None:
    import tcobench

    args = dict(chips=32, tokens=1e11, tp=2, pp=1, micro_batch=1, recompute="selective", zero=1, seq_len=2048)
    r = tcobench.train("llama-2-13b", "a100-sxm-80gb", **args)
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in args.items()]
    out = cli("train", "--model", "llama-2-13b", "--hardware", "a100-sxm-80gb", *flags, "--json")
    assert out.code == 0, out.err
    assert json.loads(out.out)["step_time_s"] == pytest.approx(r.training.step_time_s)
    assert r.to_dict()["layout"] == json.loads(out.out)["layout"]


@pytest.mark.parametrize("args, flag", [
    (["--chips", "256", "--tp", "3"], "--tp"),
    (["--chips", "8", "--tp", "2", "--pp", "1", "--global-batch", "7", "--micro-batch", "1"], "--global-batch"),
])
def test_a_layout_that_cannot_exist_names_the_flag_and_the_closest_that_works(cli, args, flag) -> None:
    r = cli("train", "--model", "llama-2-7b", "--hardware", "h100-sxm", *args)
    assert r.code == 2
    assert flag in r.err and "closest layout that works" in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_a_model_that_does_not_fit_exits_2_with_fits_false_in_json(cli) -> None:
    r = cli("train", "--model", "llama-2-70b", "--hardware", "h100-sxm", "--chips", "8", "--tp", "8", "--zero", "1", "--json")
    assert r.code == 2
    doc = json.loads(r.out)
    assert doc["fits"] is False and doc["reason"] == "does not fit in memory"
    assert doc["closest_layout"]["chips"] > 8  # no layout of 8 chips holds 70B weights, gradients and Adam state
    assert "--chips" in r.err


def test_bad_numbers_are_refused(cli) -> None:
    for args, flag in ((["--tokens", "nan"], "--tokens"), (["--tokens", "-5"], "--tokens"), (["--zero", "4"], "--zero"),
                       (["--recompute", "ful"], "--recompute")):
        r = cli("train", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--chips", "8", *args)
        assert r.code == 2 and flag in r.err, (args, r.err)


def test_compare_train_ranks_hardware_by_cost_within_the_deadline(cli) -> None:
    r = cli("compare", "--model", "llama-2-7b", "--hardware", "h100-sxm,a100-sxm-80gb,mi300x,mi355x", "--train", "--tokens", "1e11",
            "--deadline", "2 days", "--basis", "own", "--json")
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert doc["workload"] == "training" and doc["deadline_s"] == 2 * 86400
    by = {row["hardware"]: row for row in doc["rows"]}
    for row in doc["rows"]:
        if row["meets_deadline"]:
            assert row["time_to_train_s"] <= 2 * 86400
    # the cheapest run meeting the deadline: half the chips would be late, or cost no less
    h = by["h100-sxm"]
    assert h["meets_deadline"] is True
    import tcobench

    half = tcobench.train("llama-2-7b", "h100-sxm", chips=h["chips"] // 2, tokens=1e11, basis="own") if h["chips"] > 1 else None
    assert half is None or half.cost.time_to_train_s > 2 * 86400 or \
        half.cost.usd_to_train["own"][1] >= h["usd_to_train"]["own"][1]
    # mi355x has no scale-out link in the catalog, so it stops at its 8-chip domain; mi300x's sourced one lets it go past
    assert "no scale-out bandwidth" in by["mi355x"]["note"] and by["mi355x"]["chips"] <= 8
    assert by["mi300x"]["meets_deadline"] is True and by["mi300x"]["chips"] > 8


def test_compare_and_plan_train_take_the_framework(cli) -> None:
    """--framework reaches the training comparison (each row is tcobench.train under that framework) and is refused
    without --train, where the serving stack is --runtime."""
    import tcobench

    steps = []
    for fw in ("megatron", "composer-fsdp"):
        r = cli("compare", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--train", "--tokens", "1e11", "--framework", fw,
                "--json")
        assert r.code == 0, r.err
        (row,) = json.loads(r.out)["rows"]
        lay = row["layout"]
        t = tcobench.train("llama-2-7b", "h100-sxm", chips=row["chips"], tokens=1e11, framework=fw, tp=lay["tp"],
                           pp=lay["pp"], dp=lay["dp"], zero=lay["zero"], recompute=lay["recompute"],
                           micro_batch=lay["micro_batch"], layout="fixed").to_dict()
        assert t["framework"] == fw and row["step_time_s"] == pytest.approx(t["step_time_s"])
        steps.append(row["step_time_s"])
    assert steps[0] != pytest.approx(steps[1])  # the framework changed the run
    for command in (("compare",), ("plan", "--qps", "1")):
        r = cli(*command, "--model", "llama-2-7b", "--hardware", "h100-sxm", "--framework", "fsdp")
        assert r.code == 2 and "--framework" in r.err and "--train" in r.err


def test_plan_train_picks_the_fewest_chips_and_refuses_serving_flags(cli) -> None:
    r = cli("plan", "--model", "llama-2-7b", "--hardware", "h100-sxm", "--train", "--tokens", "1e11", "--deadline", "1 day",
            "--json")
    assert r.code == 0, r.err
    (row,) = json.loads(r.out)["rows"]
    assert row["meets_deadline"] and row["time_to_train_s"] <= 86400
    import tcobench

    fewer = tcobench.train("llama-2-7b", "h100-sxm", chips=row["chips"] // 2, tokens=1e11)
    assert fewer.cost.time_to_train_s > 86400  # half the chips miss the day
    bad = cli("plan", "--model", "llama-2-7b", "--train", "--qps", "5")
    assert bad.code == 2 and "--qps" in bad.err
    assert cli("plan", "--model", "llama-2-7b").code == 2


def test_validate_reports_the_training_rows_apart(cli) -> None:
    plain = cli("validate")
    assert plain.code == 0, plain.err
    assert "tcobench validate --training lists them" in plain.out and "training: predicted vs published" not in plain.out
    last = plain.out.rstrip().splitlines()[-1].lstrip()
    assert last.split(":")[0] in ("decode", "server") and "median |error|" in last  # the inference summary's phases end it
    r = cli("validate", "--training")
    assert "training: predicted vs published" in r.out
    doc = json.loads(cli("validate", "--json").out)["training"]
    errs = [row["error"] for row in doc["rows"] if row["error"] is not None]
    assert doc["summary"]["compared"] == len(errs) >= 30
    # grouped by chip too: the A100 and H100 rows are far apart (docs/training.md, 'By chip')
    assert {"hardware: a100-sxm-80gb", "hardware: h100-sxm"} <= set(doc["summary"]["groups"])
    # and dense apart from MoE: the Mixtral rows are MoE, the GPT-shaped `arch` rows dense
    kinds = {k: v["rows"] for k, v in doc["summary"]["groups"].items() if k.startswith("kind: ")}
    assert set(kinds) == {"kind: dense", "kind: MoE"} and sum(kinds.values()) == doc["summary"]["compared"]
    for row in doc["rows"]:
        assert row["error"] is not None or row["problem"]  # a row without a comparison says why


def _palm(zero_group: float, fw: str = "megatron"):
    """PaLM 540B on 6,144 TPU v4 (two 3,072-chip pods): 12-way tensor parallel x 512-way data parallel, ZeRO-3."""
    s, chip = setup("palm-540b", "tpu-v4")
    par = Parallel(tp=12.0, dp=512.0, zero=3.0, zero_group=zero_group)
    return s, chip, step(s, chip, par, TrainBatch(4.0, 2048.0, 2048.0), Formats(2.0, 2.0, 2.0), framework(fw), recompute=2.0)


def test_a_shard_group_of_all_of_dp_is_plain_zero() -> None:
    assert float(_palm(0.0)[2].step_time_s) == float(_palm(512.0)[2].step_time_s)
    assert float(_palm(1024.0)[2].step_time_s) == float(_palm(512.0)[2].step_time_s)  # larger than dp: the whole of it


def test_hybrid_sharding_keeps_the_gather_inside_the_pod_and_sends_one_shard_across() -> None:
    """Sharding over 256 ranks (12 x 256 = 3,072 chips, one pod, on ICI) instead of 512 (two pods, over the DCN):
    the weight gathers and the reduce-scatter stay on ICI; across the pods only each chip's gradient shard is
    all-reduced, with its one peer: 2 x (1/2) x shard bytes over the DCN link. Memory: twice the shard of 512."""
    from tcobench.perf import comm

    s, chip, full = _palm(0.0, "plain")
    _, _, hyb = _palm(256.0, "plain")
    assert float(hyb.step_time_s) < 0.2 * float(full.step_time_s)
    assert float(hyb.weights_bytes) == pytest.approx(2.0 * float(full.weights_bytes))
    assert float(hyb.optimizer_bytes) == pytest.approx(2.0 * float(full.optimizer_bytes))
    fw = framework("plain")
    p = s.total_params / 12.0
    a = chip.alpha
    ici = comm.tier_bandwidth(chip, 12.0 * 256.0, 6144.0)
    assert float(ici) > 10 * float(chip.out_bw)  # the shard group is on the scale-up tier
    m = 2048.0 / (512.0 * 4.0)
    rs = comm.all_gather(p * fw.grad_reduce_bytes, 256.0, ici, a)
    ag = comm.all_gather(p * fw.param_gather_bytes, 256.0, ici, a)
    cross = comm.all_reduce(p / 256.0 * fw.grad_reduce_bytes, 2.0, chip.out_bw, a)
    assert float(cross) == pytest.approx(p / 256.0 * fw.grad_reduce_bytes / float(chip.out_bw) + 2.0 * float(a))
    # plain: nothing overlapped; ZeRO-3 gathers the weights for each micro-batch's forward and backward, prefetched
    fwd_bwd = (float(hyb.parts["forward"]) + float(hyb.parts["backward"])) / m
    assert 2.0 * float(ag) < fwd_bwd  # so the per-micro-batch gathers hide under compute
    # a dense model runs no expert collectives, so nothing else is in the data-parallel part
    assert float(hyb.parts["dp_comm"]) == pytest.approx(float(rs) + float(cross) + float(ag), rel=1e-9)


def test_the_palm_row_uses_the_papers_two_level_data_parallelism(cli) -> None:
    args = ("train", "--model", "palm-540b", "--hardware", "tpu-v4", "--chips", "6144", "--tp", "12", "--pp", "1",
            "--zero", "3", "--micro-batch", "4", "--global-batch", "2048", "--seq-len", "2048", "--recompute", "full")
    hyb = cli(*args, "--zero-group", "256", "--json")
    assert hyb.code == 0, hyb.err
    doc = json.loads(hyb.out)
    assert doc["layout"]["zero_group"] == 256 and doc["layout"]["dp"] == 512
    flat = json.loads(cli(*args, "--json").out)
    assert "zero_group" not in flat["layout"]
    assert doc["tokens_per_s"] > 5 * flat["tokens_per_s"]
    text = cli(*args, "--zero-group", "256")
    assert "sharded over 256 of dp (x2 replicas)" in text.out
    import tcobench

    r = tcobench.train("palm-540b", "tpu-v4", chips=6144, tp=12, pp=1, zero=3, zero_group=256, micro_batch=4,
                       global_batch=2048, seq_len=2048, recompute="full")
    assert r.to_dict()["layout"] == doc["layout"]


@pytest.mark.parametrize("extra, words", [
    (["--zero-group", "300"], ["--zero-group 300", "divisor of --dp", "the closest: 256"]),
    (["--zero-group", "256", "--zero", "0"], ["--zero-group 256", "ZeRO-0 shards nothing", "--zero"]),
    (["--zero-group", "100", "--dp", "512"], ["--zero-group 100", "divisor of --dp 512", "the closest: 128"]),
    (["--zero-group", "0"], ["--zero-group"]),
])
def test_a_bad_shard_group_names_the_flag_and_what_would_do(cli, extra, words) -> None:
    r = cli("train", "--model", "palm-540b", "--hardware", "tpu-v4", "--chips", "6144", "--tp", "12", "--pp", "1", *extra)
    assert r.code == 2 and "Traceback" not in r.err
    for w in words:
        assert w in r.err, (w, r.err)


def test_mlperf_rows_count_the_evaluation_inside_the_timed_region() -> None:
    """MLPerf GPT-3: 5,660 sequences evaluated every 24,576 trained, in forward-only steps of the global batch; on
    2,688-sequence steps that is 3 forward steps every 10 training steps (the v3.1 logs show 22 evaluations of 3
    validation steps over 220 training steps)."""
    from tcobench.perf.validate_training import eval_time_per_step, load_rows, run

    rows = {r.id: r for r in load_rows()}
    mlperf = [r for r in rows.values() if r.group == "MLPerf Training GPT-3"]
    assert len(mlperf) == 17 and all(r.eval_every == 24576 and r.eval_sequences == 5660 for r in mlperf)
    out = {o.row.id: o for o in run(CAT)}
    o = out["mlp31-nv-h100-10752"]
    t = o.training
    assert t is not None and t.global_batch == 2688
    p = t.parts
    forward = p["forward"] + p["tp_comm"] / 2.0 + p["pp_bubble"] / 3.0 + p["pp_send_recv"] / 2.0  # no recompute: 2 passes
    assert eval_time_per_step(t, 24576, 5660) == pytest.approx(3.0 * forward / 10.0)
    assert o.predicted == pytest.approx(2688 * 2048 / (t.step_time_s + 3.0 * forward / 10.0))
    assert o.predicted < t.tokens_per_s
    g = out["mlp31-gaudi2-256"]  # the same rule on Intel's rows: 2,048-sequence steps, 3 forward steps every 12
    assert g.training is not None and g.predicted == pytest.approx(
        2048 * 2048 / (g.training.step_time_s + eval_time_per_step(g.training, 24576, 5660)))
    assert rows["k22-22b-selective-sp"].eval_every is None  # rows without evaluation compare the step alone


def test_nemo_reduces_gradients_in_bf16() -> None:
    """NVIDIA's MLPerf GPT-3 implementation: Apex DistributedFusedAdam with grad_sync_dtype bf16 (2 bytes per
    parameter reduced, against Megatron's fp32 main gradients)."""
    s, chip = setup("gpt-3-175b", "h100-sxm", "fp8")
    par = Parallel(tp=4.0, pp=8.0, dp=336.0, vpp=12.0, zero=1.0)
    batch = TrainBatch(1.0, 2688.0, 2048.0)
    fmt = Formats(1.0, 2.0, 2.0)
    nemo, mega = framework("nemo"), framework("megatron")
    assert (nemo.grad_reduce_bytes, mega.grad_reduce_bytes) == (2, 4)
    # v3.0's stack differs from v3.1's only in the attention kernel it installs (flash_attn 1.0.5 against 2.0.8)
    import dataclasses

    v30 = framework("nemo-mlperf30")
    assert (v30.attention_kernel, nemo.attention_kernel) == ("fa1", "fa2")
    assert dataclasses.replace(v30, id=nemo.id, title=nemo.title, source=nemo.source, attention_kernel="fa2") == nemo
    a = step(s, chip, par, batch, fmt, nemo, recompute=0.0, detail=True)
    # the same fp8 MLP for both (Megatron-LM builds Megatron-Core's, MLPerf's NeMo TE's LayerNormMLP: fp8_mlp)
    b = step(s, chip, par, batch, fmt, dataclasses.replace(mega, fp8_mlp=nemo.fp8_mlp), recompute=0.0, detail=True)
    assert a.comm_bytes is not None and b.comm_bytes is not None
    assert float(a.comm_bytes["dp_comm"]) == pytest.approx(float(b.comm_bytes["dp_comm"]) * 4.0 / 6.0)
    assert float(a.parts["dp_comm"]) < float(b.parts["dp_comm"])
    assert float(a.parts["forward"]) == float(b.parts["forward"])
def test_fsdp_rows_run_as_zero3_data_parallelism_and_each_is_compared_or_says_why() -> None:
    from tcobench.perf import validate_training

    # torchtitan / Composer defaults: bf16 weights gathered, fp32 gradients reduce-scattered; the two stacks share fsdp's
    # byte counts and differ in their attention kernel and eager kernels
    stacks = ("fsdp", "composer-fsdp", "torchtitan-fsdp2")
    for fid in stacks:
        fw = framework(fid)
        assert (fw.param_gather_bytes, fw.grad_reduce_bytes, fw.overlap_grad_reduce, fw.overlap_param_gather) == (2, 4, True, True)
    rows = [r for r in validate_training.load_rows() if r.framework in stacks and not r.skip]
    assert {r.framework for r in rows if r.group == "llm-foundry FSDP"} == {"composer-fsdp"}
    assert {r.framework for r in rows if r.group == "torchtitan FSDP2"} == {"torchtitan-fsdp2"}
    assert {r.group for r in rows} == {"torchtitan FSDP2", "llm-foundry FSDP"}  # MaxText's rows run framework maxtext
    assert all(r.zero == 3 and r.tp == r.pp == 1 for r in rows)
    outcomes = [o for o in validate_training.run(load_catalog()) if o.row.id.startswith(("tt-", "lf-"))]
    assert len([o for o in outcomes if o.error is not None]) == len(rows) >= 20
    assert all(o.error is not None or (o.problem or "").startswith("skipped:") for o in outcomes)
    # every published run ran, so each fits: llm-foundry's fused cross-entropy keeps bf16 logits and a bf16 gradient
    # (logits_bytes 4), which is what lets MPT-760M and 1B at 20-24 sequences per micro-batch fit in 80 GB
    assert framework("composer-fsdp").logits_bytes == 4.0 and framework("fsdp").logits_bytes == 8.0
    assert not [o.row.id for o in outcomes if o.error is not None and o.problem is not None]


def test_a_data_parallel_ring_across_nodes_pools_the_nics_of_its_ranks_in_a_node() -> None:
    """NCCL runs one ring per NIC, so a ring's bus bandwidth across DGX H100 nodes is the NICs of its members in a node
    (nccl-tests#175, nccl#1168), capped by NVLink; one member per node gets one NIC; an all-to-all never pools."""
    from tcobench.perf import comm

    _, chip = setup()
    nic, nvl = float(chip.out_bw), float(chip.up_bw)
    assert float(comm.ring_bandwidth(chip, 8.0, 1.0)) == nvl  # one node: NVLink
    assert float(comm.ring_bandwidth(chip, 64.0, 1.0)) == pytest.approx(min(nvl, 8.0 * nic))  # 8 ranks per node
    assert float(comm.ring_bandwidth(chip, 32.0, 4.0)) == pytest.approx(2.0 * nic)  # tp 4: 2 ranks per node
    assert float(comm.ring_bandwidth(chip, 16.0, 8.0)) == nic  # tp 8: one rank per node
    assert float(comm.ring_bandwidth(chip, 4.0, 16.0)) == nic  # tp spans nodes
    assert float(comm.tier_bandwidth(chip, 64.0)) == nic  # all-to-all: one NIC
    _, tpu = setup("llama-2-7b", "tpu-v4")
    assert float(comm.ring_bandwidth(tpu, 512.0, 12.0)) == float(tpu.out_bw)  # a torus pod's DCN is not pooled


def test_the_mi300x_rows_invert_the_scripts_flop_count_and_reduce_bf16_gradients() -> None:
    """SemiAnalysis's FSDP reproducer (ROCm/TransformerEngine #79): the issue's TFLOP/s per GPU count 6N + 12 L H hd T
    FLOPs per token (N = 8,030,261,248 for Llama 3.1 8B as the script builds it); each row's tokens/s is that count
    inverted over 8 GPUs, and its stack reduce-scatters bf16 gradients (2 bytes) where framework fsdp reduces fp32."""
    import re

    from tcobench.perf import validate_training

    flops_per_token = 6 * 8_030_261_248 + 12 * 32 * 32 * 128 * 4096
    assert float(shape(load_catalog().models["llama-3.1-8b"]).total_params) == pytest.approx(8_030_261_248, rel=1e-3)
    rows = [r for r in validate_training.load_rows() if r.group == "SemiAnalysis FSDP reproducer"]
    assert len(rows) == 3
    for r in rows:
        m = re.match(r"([\d.]+) TFLOP/s per GPU", r.note or "")
        assert m is not None, r.id
        assert r.published * flops_per_token / 8 / 1e12 == pytest.approx(float(m.group(1)), abs=0.01)
        # SemiAnalysis's own run was on ROCm TE's dev branch before pull request #81 (unfused attention under fp8)
        expected = "fsdp1-bf16-reduce-unfused-attn" if r.id.endswith("_rocm62") else "fsdp1-bf16-reduce"
        assert (r.hardware, r.chips, r.zero, r.global_batch, r.framework) == ("mi300x", 8, 3, 8 * r.micro_batch,
                                                                              expected)
    fw, base = framework("fsdp1-bf16-reduce"), framework("fsdp")
    assert (fw.grad_reduce_bytes, base.grad_reduce_bytes, fw.param_gather_bytes) == (2, 4, 2)
    outcomes = [o for o in validate_training.run(load_catalog()) if o.row.id.startswith("sa24_")]
    assert len([o for o in outcomes if o.error is not None]) == 3
    assert all(o.error is not None or (o.problem or "").startswith("skipped:") for o in outcomes)


def test_rocm_te_dev_branch_runs_unfused_attention_and_pays_its_score_traffic() -> None:
    """ROCm/TransformerEngine's dev branch before pull request #81 (2024-10-17) filtered out its fused and flash
    attention backends under fp8_autocast, so TE's UnfusedDotProductAttention ran: the framework for that state is
    fsdp1-bf16-reduce with the s x s scores materialised (8 bytes per score element forward, 14 backward, 2 kept,
    counted from the kernels). Its step is slower than the flash one by at least that traffic at the chip's streaming
    rate, its activations hold the kept probabilities, and the traits it shares with fsdp1-bf16-reduce are equal."""
    import dataclasses

    fw, base = framework("fsdp1-bf16-reduce-unfused-attn"), framework("fsdp1-bf16-reduce")
    assert (fw.attention, fw.unfused_forward_bytes, fw.unfused_backward_bytes, fw.unfused_stored_bytes) == (
        "unfused", 8, 14, 2)
    assert base.attention == "flash"
    skip = {"id", "title", "source", "attention", "unfused_forward_bytes", "unfused_backward_bytes",
            "unfused_stored_bytes", "attention_kernel"}
    assert all(getattr(fw, f.name) == getattr(base, f.name) for f in dataclasses.fields(fw) if f.name not in skip)

    s, chip = setup("llama-3.1-8b", "mi300x", "fp8")
    par, batch, fmt = Parallel(dp=8.0, zero=3.0), TrainBatch(2.0, 16.0, 4096.0), Formats(1.0, 2.0, 2.0)
    unfused, flash = (step(s, chip, par, batch, fmt, f, recompute=0.0) for f in (fw, base))
    scores = s.layers * s.heads * 2 * 4096.0**2  # score elements of one micro-batch on one chip, all layers
    traffic = scores * (8 + 14) / (float(chip.mem_bw) * float(chip.memory_eff))
    assert float(unfused.step_time_s) - float(flash.step_time_s) > traffic
    assert float(unfused.activation_bytes) - float(flash.activation_bytes) >= scores * 2


def test_rocm_te_fused_attention_runs_at_the_ck_kernel_rates_on_mi300x_only() -> None:
    """With fused attention allowed (ROCm TE pull requests #66 / #81), the SemiAnalysis stack's attention core runs at
    the te-ck-fused-attn figures for MI300X (aiter's causal GQA 32/8 rows, batch 4: 486.73 forward and 416.54 backward
    TFLOP/s at 4,096 tokens, interpolated over log2(seq) between the measured lengths and held past them); a chip with
    no figures keeps its own attention rate, and the unfused state names no kernel."""
    from tcobench.perf.stacks import attention_rates

    fw = framework("fsdp1-bf16-reduce")
    assert fw.attention_kernel == "te-ck-fused-attn"
    assert attention_rates(fw, "mi300x", 4096.0, 128.0) == pytest.approx((486.73e12, 416.54e12))
    fwd, bwd = attention_rates(fw, "mi300x", 2896.3, 128.0) or (0.0, 0.0)  # halfway between 2048 and 4096 in log2
    assert fwd == pytest.approx((419.435e12 + 486.73e12) / 2, rel=1e-3)
    assert bwd == pytest.approx((330.23e12 + 416.54e12) / 2, rel=1e-3)
    assert attention_rates(fw, "mi300x", 65536.0, 128.0) == pytest.approx((527.705e12, 432.545e12))
    assert attention_rates(fw, "h100-sxm", 4096.0, 128.0) is None
    assert attention_rates(framework("fsdp1-bf16-reduce-unfused-attn"), "mi300x", 4096.0, 128.0) is None
    # below the chip's bf16 GEMM rate, so the step with the kernel is the slower one
    s, chip = setup("llama-3.1-8b", "mi300x", "fp8")
    assert float(chip.attn_rate) > 486.73e12
    par, batch, fmt = Parallel(dp=8.0, zero=3.0), TrainBatch(2.0, 16.0, 4096.0), Formats(1.0, 2.0, 2.0)
    with_kernel = step(s, chip, par, batch, fmt, fw, recompute=0.0, attention=attention_rates(fw, "mi300x", 4096.0, 128.0))
    without = step(s, chip, par, batch, fmt, fw, recompute=0.0)
    assert float(with_kernel.step_time_s) > float(without.step_time_s)


def test_fsdp_on_one_node_and_on_eight_moves_the_same_bytes_per_chip_at_pooled_bandwidth() -> None:
    """MPT-13B-shaped FSDP at micro-batch 2 (llm-foundry's H100 table runs it at 4,792 tokens/s per GPU on 8 GPUs and
    4,800 on 64): the weight gathers and reduce-scatters hide under compute on 8 nodes as on one, so throughput per
    chip holds within a few per cent instead of halving at the first node boundary (one NIC per GPU)."""
    s, chip = setup("llama-2-13b")

    def per_chip(n: float) -> float:
        r = step(s, chip, Parallel(dp=n, zero=3.0), TrainBatch(2.0, 2.0 * n, 2048.0), Formats(2.0, 2.0, 2.0),
                 framework("fsdp"), recompute=0.0)
        return float(r.tokens_per_s) / n

    assert per_chip(64.0) > 0.95 * per_chip(8.0)

def test_attention_kernel_rates_interpolate_over_log_seq_and_hold_at_the_ends() -> None:
    from tcobench.perf.stacks import attention_rates, kernels

    fw = framework("torchtitan-fsdp2")
    r = kernels()["fa2"].on("h100-sxm", 128)
    assert r is not None and r.head_dim == 128.0
    seq, fwd, bwd = r.seq, r.forward, r.backward
    at_2k = attention_rates(fw, "h100-sxm", 2048, 128)
    assert at_2k == (fwd[seq.index(2048.0)], bwd[seq.index(2048.0)])
    mid = attention_rates(fw, "h100-sxm", 2048 * 2 ** 0.5, 128)  # halfway between 2k and 4k on log2(seq)
    assert mid is not None and mid[0] == pytest.approx((fwd[2] + fwd[3]) / 2.0)
    assert attention_rates(fw, "h100-sxm", 10 ** 6, 128) == (fwd[-1], bwd[-1])
    assert attention_rates(fw, "tpu-v4", 2048, 128) is None  # no figures for that chip: the catalog's rate
    assert attention_rates(framework("megatron"), "h100-sxm", 2048, 128) is None  # no kernel named


@pytest.mark.parametrize(("head_dim", "expected"), [(32, 64.0), (64, 64.0), (80, 64.0), (90, 64.0), (91, 128.0),
                                                    (96, 128.0), (128, 128.0), (256, 128.0)])
def test_attention_kernel_takes_the_figures_at_the_nearest_head_dim_on_log2(head_dim: int, expected: float) -> None:
    """Two tables, head dims 64 and 128: the nearest on log2 wins (the boundary is sqrt(64 x 128) = 90.5), and the
    rates returned are that table's."""
    from tcobench.perf.stacks import Kernel, KernelRates

    seq = (1024.0, 4096.0)
    k = Kernel("k", "k", "test", (KernelRates(("x",), 64.0, seq, (1e14, 2e14), (5e13, 1e14), "a"),
                                  KernelRates(("x", "y"), 128.0, seq, (3e14, 4e14), (2e14, 3e14), "b")))
    got = k.on("x", head_dim)
    assert got is not None and got.head_dim == expected
    only = k.on("y", head_dim)  # one table for chip y: whatever the head dim
    assert only is not None and only.head_dim == 128.0
    assert k.on("z", head_dim) is None


def test_attention_kernel_rates_depend_on_head_dim_where_the_source_measures_both() -> None:
    """Every kernel table a framework reaches is sorted and sourced; on A100 the Triton kernel llm-foundry runs has
    figures at head dims 64 and 128 (the FlashAttention-2 paper's Figure 4), and they differ."""
    from tcobench.perf.stacks import attention_rates, kernels

    for k in kernels().values():
        for r in k.rates:
            assert r.source and list(r.seq) == sorted(r.seq) and all(x > 0 for x in r.forward + r.backward)
    fw = framework("composer-fsdp")
    for hw in ("a100-sxm-80gb", "a100-sxm-40gb"):
        d64, d128 = attention_rates(fw, hw, 2048, 64), attention_rates(fw, hw, 2048, 128)
        assert d64 is not None and d128 is not None and d64 != d128


@pytest.mark.parametrize("head_dim", [64, 128])
def test_llm_foundry_triton_attention_on_h100_runs_at_flashattention_1s_rate_not_a_hopper_kernels(head_dim: int) -> None:
    """llm-foundry's Triton port runs on triton_pre_mlir's sm90 build (A100-era code generation): on H100 it takes
    FlashAttention 1's measured bars, below FlashAttention-2's (which the FlashAttention-3 paper's Triton bars exceed)
    at every sequence length."""
    from tcobench.perf.stacks import attention_rates, kernels

    triton, fa1, fa2 = (kernels()[k].on("h100-sxm", head_dim) for k in ("triton-flash", "fa1", "fa2"))
    assert triton is not None and fa1 is not None and fa2 is not None and triton.head_dim == head_dim
    assert (triton.seq, triton.forward, triton.backward) == (fa1.seq, fa1.forward, fa1.backward)
    got = attention_rates(framework("composer-fsdp"), "h100-sxm", 2048, head_dim)
    fa2_2k = attention_rates(framework("torchtitan-fsdp2"), "h100-sxm", 2048, head_dim)
    assert got is not None and fa2_2k is not None
    assert got[0] < fa2_2k[0] and got[1] < fa2_2k[1]


def test_kernel_rate_tables_name_catalog_chips() -> None:
    from tcobench.perf.stacks import kernels

    known = set(CAT.hardware)
    for k in kernels().values():
        for r in k.rates:
            assert set(r.hardware) <= known, (k.id, r.hardware)


def test_a_kernel_rate_table_with_both_rate_forms_is_a_catalog_error() -> None:
    from tcobench.errors import CatalogError
    from tcobench.perf.stacks import _kernel_rates

    good = {"hardware": ["h100-sxm"], "head_dim": 64, "seq": [1024, 2048], "source": "s"}
    assert _kernel_rates("w", {**good, "forward_backward": [100, 120]}).backward == (1e14, 1.2e14)
    for bad in ({**good, "forward": [1, 2], "forward_backward": [1, 2]}, {**good, "forward": [1, 2]}, good,
                {**good, "forward_backward": [1, 2], "head_dims": 64}, {**good, "seq": [2048, 1024],
                                                                        "forward_backward": [1, 2]}):
        with pytest.raises(CatalogError, match="w"):
            _kernel_rates("w", bad)


def test_a_slower_attention_kernel_and_eager_kernels_lengthen_forward_and_backward() -> None:
    import dataclasses

    cat = load_catalog()
    hw = cat.hardware["h100-sxm"]
    chip = Chip.of(hw, "bf16", resolve(hw, cat.efficiency), kv="bf16", attention_16bit=True)
    s, fmt = shape(cat.models["llama-2-7b"]), Formats(2.0, 2.0, 2.0)
    par, batch = Parallel(1.0, 1.0, 8.0, zero=3.0, sequence_parallel=False), TrainBatch(4.0, 32.0, 4096.0)
    base = framework("fsdp")
    plain = step(s, chip, par, batch, fmt, base, recompute=0.0, detail=True)
    assert plain.forward is not None
    rate = float(chip.attn_rate)
    t_attn = sum(float(c) * float(f) for name, c, f, _, _, _ in plain.forward.ops if name == "attention") / rate
    m = float(plain.microbatches)
    slow = step(s, chip, par, batch, fmt, base, recompute=0.0, attention=(rate / 2.0, rate / 4.0))
    # at half the rate the attention core's forward takes twice as long; its backward (2.5 x the forward FLOPs) at a
    # quarter of the rate four times as long
    assert float(slow.parts["forward"]) - float(plain.parts["forward"]) == pytest.approx(m * t_attn, rel=1e-6)
    assert float(slow.parts["backward"]) - float(plain.parts["backward"]) == pytest.approx(m * 3.0 * 2.5 * t_attn, rel=1e-6)
    eager = dataclasses.replace(base, eager_hidden_bytes=8.0, eager_qk_bytes=20.0)
    e = step(s, chip, par, batch, fmt, eager, recompute=0.0, detail=True)
    assert e.forward is not None
    added = [t for name, _, _, nbytes, t, _ in e.forward.ops if name == "eager_elementwise"]
    T = 4.0 * 4096.0
    assert len(added) == 1
    ops = [o for o in e.forward.ops if o[0] == "eager_elementwise"][0]
    assert float(ops[3]) == pytest.approx(T * (8.0 * s.hidden + 20.0 * (s.heads * s.head_dim + s.kv_elems / 2.0)))
    d_fwd = float(e.parts["forward"]) - float(plain.parts["forward"])
    assert d_fwd == pytest.approx(m * float(added[0]), rel=1e-6)
    assert float(e.parts["backward"]) - float(plain.parts["backward"]) == pytest.approx(2.0 * d_fwd, rel=1e-6)


def test_training_rows_state_expert_parallelism(monkeypatch: pytest.MonkeyPatch) -> None:
    """A row's ``ep`` reaches the model (MoE rows state it); rows that leave it out keep ep = 1."""
    from tcobench.perf import validate_training as v

    base = {"ref": "X", "model": "mixtral-8x7b", "hardware": "h100-sxm", "chips": 64, "tp": 2, "pp": 4,
            "micro_batch": 1, "global_batch": 256, "seq_len": 4096, "precision": "bf16", "published": 1.0}
    rows = [v.TrainRow(id="ep1", **base), v.TrainRow(id="ep8", ep=8, **base)]
    assert rows[0].ep == 1
    monkeypatch.setattr(v, "load_rows", lambda: rows)
    out = {o.row.id: o for o in v.run(CAT)}
    assert all(o.training is not None for o in out.values()), [o.problem for o in out.values()]
    t1, t8 = out["ep1"].training, out["ep8"].training
    assert t1 is not None and t8 is not None and t1.step_time_s != t8.step_time_s


def test_nemo_2504_frameworks_differ_only_in_the_fsdp_weight_gather() -> None:
    """NeMo 25.04's scripts reduce fp8 runs' gradients in bf16 and gather the weights in fp8, except under Megatron
    FSDP, which gathers them in bf16 (scripts/performance/utils.py at NeMo v2.3.0, fp8_param_gather False, which also
    leaves the parameters 16-bit: fp8_param = fp8_param_gather); nemo-2504's bf16 gradient buffer is read from
    Megatron-Core's DistributedDataParallel, Megatron FSDP's is not: the two frameworks differ in those alone, and
    every 25.04 row that states FSDP (zero 3) takes the FSDP one."""
    from dataclasses import asdict

    from tcobench.perf import validate_training as v
    from tcobench.perf.stacks import frameworks

    fw = frameworks()
    a, b = asdict(fw["nemo-2504"]), asdict(fw["nemo-2504-fsdp"])
    assert (a["grad_reduce_bytes"], a["param_gather_bytes"], b["param_gather_bytes"]) == (2, 1, 2)
    assert (a["fp8_params"], b["fp8_params"], a["grad_bytes"], b["grad_bytes"]) == (True, False, 2, 4)
    assert {k for k in a if a[k] != b[k]} == {"id", "title", "source", "param_gather_bytes", "fp8_params", "grad_bytes"}
    rows = [r for r in v.load_rows() if r.framework.startswith("nemo-2504")]
    assert rows and all((r.zero == 3) == (r.framework == "nemo-2504-fsdp") for r in rows)


def test_maxtext_tpu_rows_are_fsdp_over_every_chip_without_accumulation() -> None:
    from tcobench.perf import validate_training

    # MaxText's recipes shard by FSDP over the whole slice (ici_fsdp_parallelism -1) and log one step of
    # per_device_batch_size x devices sequences: ZeRO-3, dp = chips, the global batch in one micro-batch per chip
    rows = [r for r in validate_training.load_rows() if r.group == "MaxText TPU"]
    assert len(rows) == 15
    assert {r.hardware for r in rows} == {"tpu-v6e", "tpu-v7"}
    assert all(r.framework == "maxtext" and r.zero == 3 and r.tp == r.pp == 1 and r.zero_group is None for r in rows)
    # remat_policy custom with each recipe's placement: the layer input offloaded on v6e and kept on device on TPU7x 70B
    # (the TPU7x DeepSeek-V3 recipes offload it, as v6e's do)
    assert all(r.recompute == "custom" and r.remat for r in rows)
    assert all((r.remat or {}).get("decoder_layer_input") == ("offload" if r.hardware == "tpu-v6e" or r.model == "deepseek-v3"
                                                              else "device") for r in rows if "405b" not in r.id)
    # the Llama 3.1 recipes at 8192 tokens, the DeepSeek-V3 (MoE) ones at 4096
    assert all(r.micro_batch * r.chips == r.global_batch and r.seq_len == (4096 if r.model == "deepseek-v3" else 8192)
               for r in rows)
    assert sum(r.model == "deepseek-v3" for r in rows) == 2
    assert all(r.metric == "step_time_s" and r.published > 0 for r in rows)


def _te_step(s, chip, fmt: Formats, fw, sp: bool = True, detail: bool = False):
    return step(s, chip, Parallel(tp=8.0, pp=1.0, dp=4.0, zero=1.0, sequence_parallel=sp), TrainBatch(1.0, 32.0, 2048.0),
                fmt, fw, recompute=0.0, detail=detail)


@pytest.mark.parametrize("fid", ["megatron", "nemo", "nemo-mlperf30", "nemo-2407", "nemo-2504", "nemo-2504-fsdp",
                                 "fsdp1-bf16-reduce", "fsdp1-bf16-reduce-unfused-attn"])
def test_fp8_transformer_engine_rows_pay_the_cast_passes_and_bf16_rows_do_not(fid: str) -> None:
    """Transformer Engine v1.4's fp8 Linear layers run separate cast and transpose kernels (perf/data/training.toml
    [fp8_recipe."te-1.4"]): fp8 runs of a TE stack pay them as memory-bound work in the forward and backward parts and
    once per step for the weights; the same stack's bf16 runs pay nothing."""
    import dataclasses

    s, chip8 = setup("gpt-3-175b", "h100-sxm", "fp8")
    _, chip16 = setup("gpt-3-175b", "h100-sxm", "bf16")
    fw = framework(fid)
    assert fw.fp8_recipe == "te-1.4"
    bare = dataclasses.replace(fw, fp8_recipe="")
    for chip, fmt, pays in ((chip8, Formats(1.0, 2.0, 2.0), True), (chip16, Formats(2.0, 2.0, 2.0), False)):
        te, no = _te_step(s, chip, fmt, fw, detail=True), _te_step(s, chip, fmt, bare)
        assert te.forward is not None
        names = [op[0] for op in te.forward.ops]
        assert ("fp8_cast" in names) is pays
        for part in ("forward", "backward"):
            assert (float(te.parts[part]) > float(no.parts[part])) is pays
            if not pays:
                assert float(te.parts[part]) == float(no.parts[part])
        assert float(te.parts["optimizer"]) == float(no.parts["optimizer"])


def test_the_fp8_cast_bytes_follow_the_te_modules() -> None:
    """The per-token bytes of one layer, counted by hand from Transformer Engine v1.4's modules for GPT-3 175B
    (h = 12288, MHA, FFN 4h, GELU) at tp 8 with sequence parallelism, on a stack of te.TransformerLayer (LayerNormMLP:
    framework nemo, MLPerf's NeMo 1.20): forward, the projection's input cast (3 bytes per element); backward, QKV's
    output gradient cast and transposed (4), the projection's and FC2's output gradients cast on the chip's share (3)
    and transposed after the all-gather (2), FC1's cast fused into the GELU backward, and the weight gradients' inputs
    transposed (QKV and FC1: the gathered h, the projection's, FC2's)."""
    s, chip = setup("gpt-3-175b", "h100-sxm", "fp8")
    h, tp, T = 12288.0, 8.0, 2048.0
    fw = framework("nemo")
    assert fw.fp8_mlp == "te-layernorm-mlp" and not fw.fp8_params
    r = _te_step(s, chip, Formats(1.0, 2.0, 2.0), fw, detail=True)
    assert r.forward is not None
    cast = next(op for op in r.forward.ops if op[0] == "fp8_cast")
    assert float(cast[3]) == pytest.approx(T * 3.0 * h / tp)
    assert "fp8_cast_fc2" not in [op[0] for op in r.forward.ops]  # FC2's input is cast inside the GELU
    bwd = 4.0 * 3 * h / tp + 2.0 * (3.0 * h / tp + 2.0 * h) + 2.0 * 2.0 * h + 2.0 * h / tp + 2.0 * 4 * h / tp
    import dataclasses

    bare = _te_step(s, chip, Formats(1.0, 2.0, 2.0), dataclasses.replace(fw, fp8_recipe=""))
    bw = chip.mem_bw * chip.memory_eff
    bw_ct = chip.mem_bw * chip.fp8_cast_transpose_eff  # the cast-transposes' measured rate (H100)
    ct = 4.0 * 3 * h / tp  # of which cast and transposed by one kernel: QKV's output gradient
    m = 32.0 / 4.0  # micro-batches per step: the global batch over dp x micro-batch
    # the backward pass pays its own casts, not twice the forward's
    extra_bwd = float(r.parts["backward"]) - float(bare.parts["backward"])
    assert extra_bwd == pytest.approx(m * s.layers * T * ((bwd - ct) / bw + ct / bw_ct), rel=1e-9)
    # the forward: the projection's cast per micro-batch, and each weight cast and transposed once per step (4 bytes,
    # the same cast-transpose kernel, at its measured rate)
    extra_fwd = float(r.parts["forward"]) - float(bare.parts["forward"])
    assert extra_fwd == pytest.approx(m * float(cast[4]) + s.total_params / tp * 4.0 / bw_ct, rel=1e-9)


@pytest.mark.parametrize("sp", [True, False])
def test_megatron_cores_mlp_casts_fc2s_input_and_fc1s_gradient_in_separate_kernels(sp: bool) -> None:
    """Megatron-Core's dense MLP with the TE spec (core_r0.8.0 / core_r0.12.0 gpt_layer_specs.py, mlp.py): FC1 a
    TELayerNormColumnParallelLinear, Megatron's own bias_gelu between, FC2 a TERowParallelLinear. Against
    LayerNormMLP, per token and layer for GPT-3 175B (h = 12288, f = 4h, GELU) at tp 8, counted by hand from TE v1.4
    linear.py and base.py: FC2 casts its 16-bit input, 4h / tp elements (with sequence parallelism cast_to_fp8, 3
    bytes, and fp8_transpose'd in the backward as LayerNormMLP does; without, fp8_cast_transpose_fused, 4 bytes, its
    transpose saved, so the backward's 2-byte transpose goes); FC1's output gradient is cast and transposed by
    grad_output_preprocess (4 bytes per element), no longer inside the GELU backward."""
    import dataclasses

    s, chip = setup("gpt-3-175b", "h100-sxm", "fp8")
    h, tp, T, m = 12288.0, 8.0, 2048.0, 32.0 / 4.0
    f = 4.0 * h / tp
    mc = framework("megatron")
    assert mc.fp8_mlp == "mcore-mlp" and all(framework(k).fp8_mlp == "mcore-mlp"
                                             for k in ("nemo-2407", "nemo-2504", "nemo-2504-fsdp"))
    ln = dataclasses.replace(mc, fp8_mlp="te-layernorm-mlp")
    fmt = Formats(1.0, 2.0, 2.0)
    r, b = _te_step(s, chip, fmt, mc, sp=sp, detail=True), _te_step(s, chip, fmt, ln, sp=sp, detail=True)
    assert r.forward is not None and b.forward is not None
    fc2 = next(op for op in r.forward.ops if op[0] == "fp8_cast_fc2")
    assert float(fc2[3]) == pytest.approx(T * f * (3.0 if sp else 4.0))
    assert float(fc2[4]) >= s.layers * float(fc2[3]) / (chip.mem_bw * chip.memory_eff)  # streamed, plus its launches
    # the other forward casts are the same ops, bytes alike
    assert [op for op in b.forward.ops if op[0] == "fp8_cast"] == [op for op in r.forward.ops if op[0] == "fp8_cast"]
    bw, bw_ct = chip.mem_bw * chip.memory_eff, chip.mem_bw * chip.fp8_cast_transpose_eff
    extra_bwd = float(r.parts["backward"]) - float(b.parts["backward"])  # FC1's gradient cast-transposed, at its rate
    assert extra_bwd == pytest.approx(m * s.layers * T * (4.0 * f / bw_ct - (0.0 if sp else 2.0 * f) / bw), rel=1e-9)
    extra_fwd = float(r.parts["forward"]) - float(b.parts["forward"])
    assert extra_fwd == pytest.approx(m * float(fc2[4]), rel=1e-9)
    # bf16 runs of the same stack pay none of it
    _, chip16 = setup("gpt-3-175b", "h100-sxm", "bf16")
    b16 = (_te_step(s, chip16, Formats(2.0, 2.0, 2.0), mc, sp=sp), _te_step(s, chip16, Formats(2.0, 2.0, 2.0), ln, sp=sp))
    assert float(b16[0].step_time_s) == float(b16[1].step_time_s)


def test_an_unknown_fp8_mlp_is_a_catalog_error_naming_the_framework_and_a_close_match(monkeypatch) -> None:
    import copy

    from tcobench.errors import CatalogError
    from tcobench.perf import stacks

    data = copy.deepcopy(stacks._data())
    data["framework"]["nemo-2407"]["fp8_mlp"] = "mcore_mlp"
    monkeypatch.setattr(stacks, "_data", lambda: data)
    stacks.frameworks.cache_clear()
    try:
        with pytest.raises(CatalogError, match=r"\[framework.nemo-2407\]: fp8_mlp 'mcore_mlp'.*te-layernorm-mlp, "
                                               r"mcore-mlp; did you mean 'mcore-mlp'"):
            stacks.frameworks()
    finally:
        monkeypatch.undo()
        stacks.frameworks.cache_clear()


def test_fp8_linear_layers_keep_their_inputs_in_fp8_and_two_fp8_weight_copies() -> None:
    """TE v1.4 saves the Linear layers' inputs in fp8 (the norms' outputs, the attention output, the GELU output)
    and keeps weight_fp8 and weight_t_fp8 beside each 16-bit weight: fp8 activations are smaller than bf16's by
    exactly those elements, and the weights take 4 bytes per parameter (3 without the recipe)."""
    import dataclasses

    from tcobench.perf.training import activation_elems, fp8_saved_elems

    s, chip = setup("gpt-3-175b", "h100-sxm", "fp8")
    fw = framework("megatron")
    bare = dataclasses.replace(fw, fp8_recipe="")
    fmt = Formats(1.0, 2.0, 2.0)
    te, no = _te_step(s, chip, fmt, fw), _te_step(s, chip, fmt, bare)
    split8, repl8 = fp8_saved_elems(s)
    split, repl = activation_elems(s)
    assert (split8, repl8) == (s.heads * s.head_dim + s.ffn_width, 2.0 * s.hidden)
    assert split8 < split and repl8 < repl
    layers_held = float(s.layers)  # pp 1: every layer's activations are held for the one micro-batch
    saved = layers_held * 2048.0 * (split8 / 8.0 + repl8 / 8.0) * (2.0 - 1.0)
    assert float(no.activation_bytes) - float(te.activation_bytes) == pytest.approx(saved)
    dense = s.total_params / 8.0
    assert float(te.weights_bytes) == pytest.approx(dense * 4.0)
    assert float(no.weights_bytes) == pytest.approx(dense * 3.0)
    # bf16 runs keep 16-bit inputs and 2-byte weights whatever the recipe
    _, chip16 = setup("gpt-3-175b", "h100-sxm", "bf16")
    b16, b16_no = _te_step(s, chip16, Formats(2.0, 2.0, 2.0), fw), _te_step(s, chip16, Formats(2.0, 2.0, 2.0), bare)
    assert float(b16.activation_bytes) == float(b16_no.activation_bytes)
    assert float(b16.weights_bytes) == pytest.approx(dense * 2.0)


def test_fp8_parameters_drop_the_16_bit_weights_in_fp8_runs_only() -> None:
    """A stack built under Transformer Engine's fp8_model_init (nemo-2504: Megatron-Core's fp8_param) keeps its Linear
    weights as the recipe's fp8 copies alone, 2 bytes per parameter against 4 beside a 16-bit weight; bf16 runs of the
    same stack keep 2-byte weights. Its bf16 gradient buffer (grad_reduce_in_fp32 False) halves the gradients; the
    optimizer state, activations and step are untouched by the weights' storage."""
    import dataclasses

    s, chip = setup("gpt-3-175b", "h100-sxm", "fp8")
    fw = framework("nemo-2504")
    assert fw.fp8_params and fw.grad_bytes == 2.0 and framework("megatron").fp8_params is False
    beside = dataclasses.replace(fw, fp8_params=False)
    fmt = Formats(1.0, 2.0, 2.0)
    own, kept = _te_step(s, chip, fmt, fw), _te_step(s, chip, fmt, beside)
    dense = s.total_params / 8.0
    assert float(own.weights_bytes) == pytest.approx(dense * 2.0)
    assert float(kept.weights_bytes) == pytest.approx(dense * 4.0)
    assert float(own.grads_bytes) == pytest.approx(dense * 2.0)
    assert float(own.optimizer_bytes) == float(kept.optimizer_bytes)
    assert float(own.activation_bytes) == float(kept.activation_bytes)
    assert float(own.step_time_s) == float(kept.step_time_s)
    _, chip16 = setup("gpt-3-175b", "h100-sxm", "bf16")
    b16 = _te_step(s, chip16, Formats(2.0, 2.0, 2.0), fw)
    assert float(b16.weights_bytes) == pytest.approx(dense * 2.0)


def test_apex_distributed_adam_keeps_16_bit_master_remainders() -> None:
    """nemo-2407 runs Apex DistributedFusedAdam with store_param_remainders (NeMo's megatron_base_model.py for a bf16
    model and an fp32 optimizer): 2 + 4 + 4 bytes of optimizer state per parameter, sharded over the data-parallel
    ranks, against Megatron's distributed optimizer's 12."""
    s, chip = setup()
    d = 8.0
    opt = {fid: float(step(s, chip, Parallel(dp=d, zero=1.0), TrainBatch(1.0, 8.0, 4096.0), Formats(2.0, 2.0, 2.0),
                           framework(fid), recompute=0.0).optimizer_bytes) / s.total_params for fid in ("nemo-2407", "megatron")}
    assert opt["nemo-2407"] == pytest.approx(10.0 / d)
    assert opt["megatron"] == pytest.approx(12.0 / d)


def test_deepspeeds_bf16_optimizer_shards_its_state_at_zero_stage_0() -> None:
    """DeepSpeed with bf16 and ZeRO off wraps the optimizer in BF16_Optimizer, which keeps the fp32 master and moments
    of one data-parallel partition (12 / d bytes per parameter, against 12 replicated), steps only that partition, and
    all-gathers the updated bf16 weights; the fp32 gradients stay whole. A stack without the trait replicates them."""
    import dataclasses

    s, chip = setup()
    d = 8.0
    ds = framework("deepspeed")
    plain = dataclasses.replace(ds, optimizer_sharded=False)
    assert ds.optimizer_sharded and not framework("megatron").optimizer_sharded

    def run(fw, zero):
        return step(s, chip, Parallel(dp=d, zero=zero), TrainBatch(1.0, 8.0, 4096.0), Formats(2.0, 2.0, 2.0), fw,
                    recompute=0.0, detail=True)

    own, rep, z1 = run(ds, 0.0), run(plain, 0.0), run(plain, 1.0)
    n = s.total_params
    assert float(own.optimizer_bytes) == pytest.approx(n * 12.0 / d)
    assert float(rep.optimizer_bytes) == pytest.approx(n * 12.0)
    assert float(own.grads_bytes) == float(rep.grads_bytes) == pytest.approx(n * 4.0)
    assert float(own.parts["optimizer"]) == pytest.approx(float(rep.parts["optimizer"]) / d)
    assert float(own.parts["optimizer"]) == pytest.approx(float(z1.parts["optimizer"]))
    # the all-reduce of the gradients (stage 0) plus the all-gather of the updated weights
    assert float(own.comm_bytes["dp_comm"]) == pytest.approx(n * (2.0 * ds.grad_reduce_bytes + ds.param_gather_bytes))
    assert float(own.parts["dp_comm"]) > float(rep.parts["dp_comm"])


@pytest.mark.parametrize("fid", ["nemo-2407", "nemo-2504", "nemo-2504-fsdp"])
def test_megatron_core_losses_hold_an_fp32_softmax_and_a_bf16_gradient(fid: str) -> None:
    """Megatron-Core's vocab-parallel cross entropy keeps the fp32 softmax (4 bytes per logit) and returns a bf16
    gradient (2): 6 bytes per logit on the last stage, 2 fewer than an fp32 copy with an fp32 gradient; the step's
    time does not move."""
    import dataclasses

    s, chip = setup()
    fw = framework(fid)
    assert fw.logits_bytes == 6.0
    eight = dataclasses.replace(fw, logits_bytes=8.0)
    par, batch = Parallel(tp=2.0, dp=4.0), TrainBatch(1.0, 8.0, 4096.0)
    own, ref = (step(s, chip, par, batch, Formats(2.0, 2.0, 2.0), f, recompute=0.0) for f in (fw, eight))
    assert float(ref.activation_bytes) - float(own.activation_bytes) == pytest.approx(4096.0 * s.vocab / 2.0 * 2.0)
    assert float(own.step_time_s) == float(ref.step_time_s)


def test_an_eager_stack_waits_for_its_host_where_the_kernels_are_shorter_than_their_launches() -> None:
    """composer-fsdp counts the kernels its host launches per layer; a pass takes at least that many x the chip's
    eager_overhead, and no longer where the GPU's kernels outlast their launches (the llm-foundry rows)."""
    import dataclasses

    from tcobench.perf.roofline import Phase
    from tcobench.perf.validate_training import gpt_model

    hw = CAT.hardware["a100-sxm-80gb"]
    chip = Chip.of(hw, "bf16", resolve(hw, CAT.efficiency))
    eager = dataclasses.replace(framework("composer-fsdp"), logit_passes_bytes=0.0)  # the launches alone
    counted = (eager.eager_kernels_forward, eager.eager_kernels_backward)
    assert counted[0] > 0 and counted[1] > counted[0]
    uncounted = dataclasses.replace(eager, eager_kernels_forward=0.0, eager_kernels_backward=0.0)
    fmt, par = Formats(2.0, 2.0, 2.0), Parallel(1.0, 1.0, 8.0, zero=3.0, sequence_parallel=False)
    per = float(Phase(chip, eager=True).launch_cost())
    assert per == pytest.approx(10.3e-6, rel=0.01)  # efficiency.toml [efficiency.gpu] eager_overhead

    small = shape(gpt_model("t", {"layers": 12, "hidden": 768, "heads": 12, "vocab": 50368}, 128))
    batch = TrainBatch(1.0, 16.0, 128.0)  # one 128-token sequence per pass: kernels of a few microseconds
    host = step(small, chip, par, batch, fmt, eager, recompute=0.0)
    gpu = step(small, chip, par, batch, fmt, uncounted, recompute=0.0)
    m = float(host.microbatches)
    assert float(gpu.parts["forward"]) < m * 12.0 * counted[0] * per
    assert float(host.parts["forward"]) == pytest.approx(m * 12.0 * counted[0] * per, rel=1e-9)
    assert float(host.parts["backward"]) == pytest.approx(m * 12.0 * counted[1] * per, rel=1e-9)
    assert float(host.step_time_s) > float(gpu.step_time_s)

    big = shape(CAT.get_model("llama-2-7b"))
    batch = TrainBatch(4.0, 32.0, 4096.0)  # milliseconds per kernel: the host runs ahead, nothing changes
    assert float(step(big, chip, par, batch, fmt, eager, recompute=0.0).step_time_s) == \
        float(step(big, chip, par, batch, fmt, uncounted, recompute=0.0).step_time_s)
    assert framework("megatron").eager_kernels_forward == 0.0  # a stack whose launches were not counted pays none


def test_the_train_metrics_passes_over_the_logits_cost_their_bytes_on_every_micro_batch() -> None:
    # composer-fsdp's train metrics read and write logit_passes_bytes per logit per micro-batch at the memory rate,
    # outside the passes FSDP's gathers hide under: the step grows by exactly that time, more for a small model
    import dataclasses

    from tcobench.perf.validate_training import gpt_model

    hw = CAT.hardware["a100-sxm-80gb"]
    chip = Chip.of(hw, "bf16", resolve(hw, CAT.efficiency))
    fw = framework("composer-fsdp")
    assert fw.logit_passes_bytes == 28.0  # two metrics x (fp32 cast 2 + 4, log_softmax 4 + 4), training.toml
    none = dataclasses.replace(fw, logit_passes_bytes=0.0)
    fmt, par = Formats(2.0, 2.0, 2.0), Parallel(1.0, 1.0, 8.0, zero=3.0, sequence_parallel=False)
    batch = TrainBatch(16.0, 256.0, 2048.0)
    shares = []
    for cfg in ({"layers": 12, "hidden": 768, "heads": 12}, {"layers": 32, "hidden": 4096, "heads": 32}):
        s = shape(gpt_model("t", {**cfg, "vocab": 50368}, 2048))
        with_, without = step(s, chip, par, batch, fmt, fw, recompute=0.0), step(s, chip, par, batch, fmt, none, recompute=0.0)
        m = float(with_.microbatches)
        t_lp = 16.0 * 2048.0 * 50368.0 * 28.0 / (chip.mem_bw * chip.memory_eff)
        assert float(with_.parts["forward"]) - float(without.parts["forward"]) == pytest.approx(m * t_lp, rel=1e-9)
        grown = float(with_.step_time_s) - float(without.step_time_s)
        assert grown >= m * t_lp * (1.0 - 1e-9)
        shares.append(grown / float(without.step_time_s))
    assert shares[0] > 3.0 * shares[1]  # the vocabulary's share falls as d_model grows
    assert framework("megatron").logit_passes_bytes == 0.0  # a stack whose code was not read for them pays none
