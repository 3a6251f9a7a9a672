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


def parse(data: bytes, api: Api) -> Delta:
    """Read one event's data. Raises ``MalformedEvent`` for anything but the API's JSON objects."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise MalformedEvent(f"event data is not JSON: {data[:80]!r}") from err
    if not isinstance(doc, dict):
        raise MalformedEvent(f"event data is not a JSON object: {data[:80]!r}")
    if "error" in doc and doc["error"]:
        err = doc["error"]
        return Delta(text=False, error=str(err.get("message", err) if isinstance(err, dict) else err)[:200])
    choices = doc.get("choices")
    if not isinstance(choices, list):
        raise MalformedEvent(f"event has no 'choices' list: {data[:80]!r}")
    text = False
    finish = None
    for choice in choices:
        if not isinstance(choice, dict):
            raise MalformedEvent(f"a choice is not an object: {data[:80]!r}")
        part = choice.get("delta") if api is Api.CHAT else choice
        if not isinstance(part, dict):
            raise MalformedEvent(f"a choice has no {'delta' if api is Api.CHAT else 'text'}: {data[:80]!r}")
        if api is Api.CHAT:
            text = text or bool(part.get("content") or part.get("reasoning_content") or part.get("reasoning"))
        else:
            text = text or bool(part.get("text"))
        finish = choice.get("finish_reason") or finish
    usage = doc.get("usage")
    if isinstance(usage, dict):
        return Delta(text=text, completion_tokens=_int(usage.get("completion_tokens")),
                     prompt_tokens=_int(usage.get("prompt_tokens")), finish_reason=finish)
    return Delta(text=text, finish_reason=finish)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None
