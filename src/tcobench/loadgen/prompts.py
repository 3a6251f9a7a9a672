"""What to send: random word prompts of a chosen length, a JSONL file, or a ShareGPT file.

Random prompts are built from a fixed pool of pseudo-words (consonant-vowel syllable pairs such as
"bako"), one word per intended token. On a real tokenizer a pseudo-word is one to three tokens, so
``input_tokens`` is an estimate; the server's own ``usage.prompt_tokens`` is what gets reported.
Every prompt is drawn from its own seeded generator, so prompt ``i`` is the same in every run and two
prompts almost never share a prefix (no accidental prefix-cache hits).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tcobench import checks
from tcobench.errors import InputError

MAX_WORDS = 10_000_000  # words in one random prompt: past any model's context, and a prompt is built in memory

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
SYLLABLES = tuple(c + v for c in _CONSONANTS for v in _VOWELS)  # 70
WORDS = tuple(a + b for a in SYLLABLES for b in SYLLABLES)  # 4,900 pseudo-words


@dataclass(frozen=True, slots=True)
class Prompt:
    """One request's input: plain text, or chat turns as (role, content) pairs."""

    text: str | None = None
    turns: tuple[tuple[str, str], ...] = ()
    input_tokens: int | None = None  # an estimate; None when unknown
    output_len: int | None = None  # from the data set (ShareGPT reply length); --output-len wins

    def messages(self) -> list[tuple[str, str]]:
        return list(self.turns) if self.turns else [("user", self.text or "")]

    def as_text(self) -> str:
        return self.text if self.text is not None else "\n".join(c for _, c in self.turns)


class PromptSource(Protocol):
    def __getitem__(self, index: int) -> Prompt: ...

    def describe(self) -> dict[str, object]: ...


@dataclass(frozen=True, slots=True)
class LengthDist:
    """A token-length distribution: fixed ``N``, uniform ``LO..HI``, or ``normal:MEAN:SD`` (>= 1)."""

    kind: str
    a: int
    b: int = 0

    @classmethod
    def parse(cls, text: str, param: str = "input_len") -> LengthDist:
        """'N', 'LO..HI' or 'normal:MEAN:SD'. An error names ``param``, the parameter the text was given as."""
        t = text.strip().lower()
        try:
            if m := re.fullmatch(r"(\d+)", t, re.ASCII):
                out = cls("fixed", int(m[1]))
            elif m := re.fullmatch(r"(\d+)\s*\.\.\s*(\d+)", t, re.ASCII):
                out = cls("uniform", int(m[1]), int(m[2]))
            elif m := re.fullmatch(r"normal:(\d+):(\d+)", t, re.ASCII):
                out = cls("normal", int(m[1]), int(m[2]))
            else:
                raise ValueError(t)
        except ValueError:
            raise InputError(f"cannot read {repr(text)} in {{{param}}}; expected N, LO..HI or normal:MEAN:SD, "
                             "e.g. '128', '64..256', 'normal:128:32'", params=(param,)) from None
        if out.a < 1 or (out.kind == "uniform" and out.b < out.a):
            raise InputError(f"{repr(text)} in {{{param}}}: lengths must be >= 1 and LO <= HI", params=(param,))
        if max(out.a, out.b) > MAX_WORDS:
            raise InputError(f"{repr(text)} in {{{param}}}: at most {MAX_WORDS:,} words a prompt (each prompt is built "
                             "in memory)", params=(param,))
        return out

    def sample(self, rng: random.Random) -> int:
        if self.kind == "fixed":
            return self.a
        if self.kind == "uniform":
            return rng.randint(self.a, self.b)
        return max(1, round(rng.gauss(self.a, self.b)))

    def __str__(self) -> str:
        return {"fixed": f"{self.a}", "uniform": f"{self.a}..{self.b}", "normal": f"normal:{self.a}:{self.b}"}[self.kind]


@dataclass(frozen=True, slots=True)
class RandomPrompts:
    """Prompt ``i`` has ``input_len.sample()`` pseudo-words, drawn from generator (seed, i)."""

    input_len: LengthDist
    seed: int = 0

    def __getitem__(self, index: int) -> Prompt:
        rng = random.Random(self.seed * 1_000_003 + index)
        n = self.input_len.sample(rng)
        return Prompt(text=" ".join(rng.choices(WORDS, k=n)), input_tokens=n)

    def describe(self) -> dict[str, object]:
        return {"kind": "random", "input_len": str(self.input_len), "seed": self.seed}


@dataclass(frozen=True, slots=True)
class FilePrompts:
    """Prompts read from a file, used in order and cycled when the run needs more."""

    prompts: tuple[Prompt, ...]
    path: str
    kind: str  # "jsonl" or "sharegpt"

    def __getitem__(self, index: int) -> Prompt:
        return self.prompts[index % len(self.prompts)]

    def describe(self) -> dict[str, object]:
        return {"kind": self.kind, "path": self.path, "count": len(self.prompts)}


def load_jsonl(path: str | Path) -> FilePrompts:
    """One JSON object a line: ``{"prompt": "..."}`` or ``{"messages": [{"role":..,"content":..}]}``,
    optionally with ``"output_len"``. Blank lines are skipped."""
    prompts: list[Prompt] = []
    for lineno, line in enumerate(_read(path).split("\n"), start=1):  # JSON Lines end at "\n" only, not at U+2028
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        doc = _json(line, where, "not a JSON object")
        if not isinstance(doc, dict):
            raise InputError(f"{where}: expected a JSON object with 'prompt' or 'messages'")
        out_len = doc.get("output_len")
        if out_len is not None:
            checks.count(out_len, f"{where}: 'output_len'")
        if isinstance(doc.get("prompt"), str):
            prompts.append(Prompt(text=doc["prompt"], output_len=out_len))
        elif isinstance(doc.get("messages"), list):
            prompts.append(Prompt(turns=_turns(doc["messages"], where), output_len=out_len))
        else:
            raise InputError(f"{where}: expected a string 'prompt' or a list 'messages', got keys {sorted(doc)}")
    if not prompts:
        raise InputError(f"{path}: no prompts found")
    return FilePrompts(tuple(prompts), str(path), "jsonl")


def load_sharegpt(path: str | Path) -> FilePrompts:
    """A ShareGPT JSON list: ``[{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", ...}]}]``.

    The first human turn is the prompt; the length in words of the first reply after it is the
    ``output_len`` (as vLLM's benchmark does, with words in place of its tokenizer's tokens).
    Conversations without a human turn followed by a reply are skipped.
    """
    doc = _json(_read(path), str(path), "not a ShareGPT JSON file")
    if not isinstance(doc, list):
        raise InputError(f"{path}: expected a JSON list of conversations")
    prompts: list[Prompt] = []
    for item in doc:
        conv = item.get("conversations") if isinstance(item, dict) else None
        if not isinstance(conv, list) or len(conv) < 2:
            continue
        first, second = conv[0], conv[1]
        if not (isinstance(first, dict) and isinstance(second, dict)):
            continue
        if first.get("from") not in ("human", "user") or not isinstance(first.get("value"), str):
            continue
        reply = second.get("value")
        if not isinstance(reply, str) or not reply.split():
            continue
        prompts.append(Prompt(text=first["value"], input_tokens=len(first["value"].split()),
                              output_len=len(reply.split())))
    if not prompts:
        raise InputError(f"{path}: no usable conversations (a human turn followed by a reply)")
    return FilePrompts(tuple(prompts), str(path), "sharegpt")


def _turns(messages: Sequence[object], where: str) -> tuple[tuple[str, str], ...]:
    out = []
    for m in messages:
        if not (isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)):
            raise InputError(f"{where}: each message needs string 'role' and 'content', got {m!r:.80}")
        out.append((m["role"], m["content"]))
    if not out:
        raise InputError(f"{where}: 'messages' is empty")
    return tuple(out)


def _read(path: str | Path) -> str:
    """The file's text: InputError when it cannot be read or is not UTF-8 (naming the offset of the bad byte)."""
    return checks.read_text(path, "prompts file")


def _json(text: str, where: str, what: str) -> Any:
    """``text`` as JSON; InputError naming ``where`` when it is not JSON or is nested too deeply to read."""
    try:
        return json.loads(text)
    except ValueError as err:
        raise InputError(f"{where}: {what} ({err})") from err
    except RecursionError as err:
        raise InputError(f"{where}: {what} (nested too deeply to read)") from err
