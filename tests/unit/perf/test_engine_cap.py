"""A runtime's engine cap (vLLM's default max_num_seqs) bounds batch "auto" and a finite run's waves."""

from tcobench.catalog import load_catalog
from tcobench.perf import predict
from tcobench.perf.finite import finite_run
from tcobench.perf.predict import AUTO_BATCHES, auto_batches, engine_cap

CAT = load_catalog()
MODEL, HW = CAT.get_model("llama-3.1-8b"), CAT.get_hardware("mi300x")
KW = {"input_len": 128, "output_len": 1024, "precision": "fp8", "catalog": CAT}
VLLM = CAT.get_runtime("vllm-0.6")


def test_vllm_06_caps_at_its_default_of_256_and_default_has_no_cap() -> None:
    assert engine_cap(VLLM) == 256
    assert engine_cap(CAT.get_runtime("default")) is None
    assert auto_batches(CAT.get_runtime("default")) is AUTO_BATCHES
    assert auto_batches(VLLM).max() == 256 and 256 in auto_batches(VLLM)


def test_auto_batch_stops_at_the_cap_where_more_would_fit() -> None:
    free = predict(MODEL, HW, batch="auto", **KW)
    capped = predict(MODEL, HW, batch="auto", runtime="vllm-0.6", **KW)
    assert free.batch > 256 and free.max_batch > 256  # the test means something only if more than 256 fit
    assert capped.batch == 256
    assert capped.output_tokens_per_s < free.output_tokens_per_s


def test_a_finite_run_waves_at_the_cap_unless_the_run_sets_its_own() -> None:
    run = finite_run(MODEL, HW, requests=1000, runtime="vllm-0.6", **KW)
    assert (run.wave, run.full_waves, run.remainder) == (256, 3, 232)
    own = finite_run(MODEL, HW, requests=1000, max_batch=500, runtime=VLLM, **KW)
    assert own.wave == 500
    free = finite_run(MODEL, HW, requests=1000, **KW)
    assert free.wave == 1000 and free.output_tokens_per_s > run.output_tokens_per_s


def test_the_cap_never_exceeds_what_fits() -> None:
    long = {**KW, "input_len": 8192, "output_len": 8192, "precision": "bf16"}
    big = CAT.get_model("llama-3.1-70b")
    fit = predict(big, HW, batch=1, tp=2, runtime="vllm-0.6", **long).max_batch
    assert fit < 256
    assert finite_run(big, HW, requests=1000, tp=2, runtime="vllm-0.6", **long).wave == fit
    assert predict(big, HW, batch="auto", tp=2, runtime="vllm-0.6", **long).batch <= fit
