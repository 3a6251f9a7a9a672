import pytest

from tcobench.loadgen.api import Api, MalformedEvent, body, parse
from tcobench.loadgen.prompts import Prompt


def test_chat_body_streams_with_usage_and_pins_length() -> None:
    doc = body(Api.CHAT, "m", Prompt(text="hi"), 32, ignore_eos=True)
    assert doc["messages"] == [{"role": "user", "content": "hi"}]
    assert doc["stream"] is True and doc["stream_options"] == {"include_usage": True}
    assert (doc["max_tokens"], doc["ignore_eos"], doc["min_tokens"]) == (32, True, 32)


def test_completions_body_without_length_leaves_it_to_the_server() -> None:
    doc = body(Api.COMPLETIONS, "m", Prompt(turns=(("system", "s"), ("user", "u"))), None, ignore_eos=True)
    assert doc["prompt"] == "s\nu"
    assert "max_tokens" not in doc and "ignore_eos" not in doc


@pytest.mark.parametrize("data, api, text", [
    (b'{"choices":[{"delta":{"role":"assistant","content":""}}]}', Api.CHAT, False),
    (b'{"choices":[{"delta":{"content":" x"}}]}', Api.CHAT, True),
    (b'{"choices":[{"delta":{"reasoning_content":"think"}}]}', Api.CHAT, True),
    (b'{"choices":[{"delta":{"reasoning":"think"}}]}', Api.CHAT, True),
    (b'{"choices":[{"text":"x","finish_reason":null}]}', Api.COMPLETIONS, True),
    (b'{"choices":[{"text":"","finish_reason":"length"}]}', Api.COMPLETIONS, False),
])
def test_text_is_content_or_reasoning_and_never_an_empty_delta(data: bytes, api: Api, text: bool) -> None:
    assert parse(data, api).text is text


def test_usage_event_gives_counts() -> None:
    d = parse(b'{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":64}}', Api.CHAT)
    assert (d.text, d.completion_tokens, d.prompt_tokens) == (False, 64, 7)


def test_error_event_is_reported_not_malformed() -> None:
    assert parse(b'{"error":{"message":"boom"}}', Api.CHAT).error == "boom"


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b'{"id": 1}', b'{"choices":[1]}', b"\xff\xfe"])
def test_malformed_events_raise(data: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse(data, Api.CHAT)
