"""Adapters for the two OpenAI-compatible streaming APIs: request body out, text delta in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tcobench.loadgen.prompts import Prompt


class Api(StrEnum):
    CHAT = "chat"
    COMPLETIONS = "completions"

    @property
    def path(self) -> str:
        return "/v1/chat/completions" if self is Api.CHAT else "/v1/completions"


class MalformedEvent(ValueError):
    """An SSE data payload that is not the JSON the API defines."""


@dataclass(frozen=True, slots=True)
class Delta:
    text: bool  # True when the event carries generated text (content or reasoning)
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    finish_reason: str | None = None
    error: str | None = None


DONE = b"[DONE]"


def body(api: Api, model: str, prompt: Prompt, max_tokens: int | None, *, ignore_eos: bool) -> dict[str, Any]:
    """The JSON body of one streamed request. ``ignore_eos``/``min_tokens`` pin the output length on
    servers that know them (vLLM, SGLang); others ignore unknown fields."""
    doc: dict[str, Any] = {"model": model, "stream": True, "stream_options": {"include_usage": True}}
    if api is Api.CHAT:
        doc["messages"] = [{"role": r, "content": c} for r, c in prompt.messages()]
    else:
        doc["prompt"] = prompt.as_text()
    if max_tokens is not None:
        doc["max_tokens"] = max_tokens
        if ignore_eos:
            doc["ignore_eos"] = True
            doc["min_tokens"] = max_tokens
    return doc


_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner behind json.loads, without its per-call wrapping
_TEXT, _NO_TEXT = Delta(text=True), Delta(text=False)  # the usual events, shared instead of built each time


def loads(data: bytes) -> Any:
    """``json.loads`` for one event's data, at about half its cost: most of ``json.loads`` on a small
    payload is encoding detection and two whitespace regex matches around the C scanner."""
    try:
        s = data.decode()
        doc, end = _scan(s, 0)
    except (UnicodeDecodeError, StopIteration, ValueError, IndexError):
        doc, end = None, -1
    if end != len(s) if end >= 0 else True:
        try:
            return json.loads(data)  # leading or trailing whitespace, or an error message worth keeping
        except (ValueError, UnicodeDecodeError) as err:
            raise MalformedEvent(f"event data is not JSON: {data[:80]!r}") from err
    return doc


def parse(data: bytes, api: Api) -> Delta:
    """Read one event's data. Raises ``MalformedEvent`` for anything but the API's JSON objects."""
    doc = loads(data)
    if type(doc) is not dict:
        raise MalformedEvent(f"event data is not a JSON object: {data[:80]!r}")
    err = doc.get("error")
    if err:
        return Delta(text=False, error=str(err.get("message", err) if isinstance(err, dict) else err)[:200])
    choices = doc.get("choices")
    if type(choices) is not list:
        raise MalformedEvent(f"event has no 'choices' list: {data[:80]!r}")
    chat = api is Api.CHAT
    text = False
    finish = None
    for choice in choices:
        if type(choice) is not dict:
            raise MalformedEvent(f"a choice is not an object: {data[:80]!r}")
        part = choice.get("delta") if chat else choice
        if type(part) is not dict:
            raise MalformedEvent(f"a choice has no {'delta' if chat else 'text'}: {data[:80]!r}")
        if chat:
            text = text or bool(part.get("content") or part.get("reasoning_content") or part.get("reasoning"))
        else:
            text = text or bool(part.get("text"))
        finish = choice.get("finish_reason") or finish
    usage = doc.get("usage")
    if isinstance(usage, dict):
        return Delta(text=text, completion_tokens=_int(usage.get("completion_tokens")),
                     prompt_tokens=_int(usage.get("prompt_tokens")), finish_reason=finish)
    if finish is None:
        return _TEXT if text else _NO_TEXT
    return Delta(text=text, finish_reason=finish)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
