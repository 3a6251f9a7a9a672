import json
import random
from pathlib import Path

import pytest

from tcobench.errors import InputError
from tcobench.loadgen.prompts import WORDS, LengthDist, RandomPrompts, load_jsonl, load_sharegpt


def test_random_prompts_have_the_asked_length_and_are_reproducible() -> None:
    p = RandomPrompts(LengthDist.parse("32"), seed=7)
    assert len((p[3].text or "").split()) == 32 and p[3].input_tokens == 32
    assert p[3] == RandomPrompts(LengthDist.parse("32"), seed=7)[3]
    assert p[3].text != p[4].text
    assert set((p[3].text or "").split()) <= set(WORDS)


@pytest.mark.parametrize("spec, lo, hi", [("64", 64, 64), ("10..20", 10, 20), ("normal:100:10", 50, 150)])
def test_length_distributions_stay_in_range(spec: str, lo: int, hi: int) -> None:
    d, rng = LengthDist.parse(spec), random.Random(0)
    values = [d.sample(rng) for _ in range(2000)]
    assert lo <= min(values) and max(values) <= hi
    if lo < hi:
        assert len(set(values)) > 5


@pytest.mark.parametrize("spec", ["", "abc", "20..10", "0", "normal:5"])
def test_bad_lengths_are_rejected_naming_the_parameter(spec: str) -> None:
    with pytest.raises(InputError, match=r" in input_len\b") as info:
        LengthDist.parse(spec)
    assert info.value.params == ("input_len",) and "--" not in str(info.value)


def test_jsonl_reads_prompts_and_messages(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt": "hello", "output_len": 5}\n\n{"messages": [{"role": "user", "content": "hi"}]}\n')
    src = load_jsonl(f)
    assert src[0].text == "hello" and src[0].output_len == 5
    assert src[1].messages() == [("user", "hi")]
    assert src[2] == src[0]  # cycles


def test_jsonl_error_names_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt": "ok"}\n{"text": "no"}\n')
    with pytest.raises(InputError, match=r"p\.jsonl:2"):
        load_jsonl(f)


def test_sharegpt_takes_first_human_turn_and_reply_length(tmp_path: Path) -> None:
    f = tmp_path / "s.json"
    f.write_text(json.dumps([
        {"conversations": [{"from": "human", "value": "what is two"}, {"from": "gpt", "value": "it is two ok"}]},
        {"conversations": [{"from": "gpt", "value": "skipped: no human turn first"}]},
        {"conversations": [{"from": "human", "value": "alone"}]},
    ]))
    src = load_sharegpt(f)
    assert src.describe()["count"] == 1
    assert (src[0].text, src[0].output_len) == ("what is two", 4)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read prompts file"):
        load_sharegpt(tmp_path / "nope.json")
