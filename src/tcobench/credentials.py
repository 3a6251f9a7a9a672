"""Credentials a user may type, and how they are kept out of everything tcobench stores, prints or renders.

A key can reach tcobench inside a URL (``http://user:sk-...@host``, ``?api_key=...``), in a document under a
key such as ``api_key``, or as text typed where something else was expected (a label, a key given where a
variable's name belongs). The request itself still needs it: the caller keeps the original for sending and
shows only what these functions return.

    redact_url(url)          'http://u:sk-1@h:8000/p?api_key=sk-2&v=1' -> 'http://***@h:8000/p?api_key=***&v=1'
    redact_text(text, known) every URL in ``text`` redacted, key-shaped tokens and the ``known`` secrets hidden
    scrub(doc)               a JSON document: values under secret-looking keys hidden, every string redacted
    url_secrets(url)         the secret strings a URL holds, to hide wherever a server echoes them back
    is_env_name(name)        whether ``name`` can be an environment variable's name

Everything hidden becomes ``***``. A leaf: imports nothing of tcobench.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

HIDDEN = "***"

# a document key whose value is a credential ("api_key", "Authorization", ...); narrow on purpose, since
# documents hold keys such as "key_env_var" (a variable's name) and "output_tokens" that are not secrets
SECRET_FIELD = re.compile(r"api[_-]?key|secret|password|passwd|authorization|bearer", re.I)
# a URL query parameter that may carry a credential (api_key, access_token, sig, X-Amz-Credential, ...);
# wide on purpose: hiding a harmless value costs nothing, showing a key cannot be undone
SECRET_PARAM = re.compile(r"key|token|secret|pass|pwd|auth|cred|sig|session", re.I)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_PARAM = re.compile(r"(?P<sep>^|[?&;])(?P<name>[^=&;#?]+)=(?P<value>[^&;#]*)")
_TEXT_PARAM = re.compile(r"(?P<sep>[?&;])(?P<name>[\w.~%-]+)=(?P<value>[^&;#\s'\"<>`]*)")  # a query without its URL
# tokens shaped like API keys wherever they are typed: OpenAI/Anthropic-style sk-..., Stripe-style
# sk_live_..., Hugging Face hf_..., and an HTTP bearer credential
_KEY_SHAPED = re.compile(r"\bsk[-_][A-Za-z0-9_-]{12,}|\bhf_[A-Za-z0-9]{12,}|(?i:\bbearer\s+)[A-Za-z0-9._~+/-]+=*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MIN_KNOWN = 4  # a known secret shorter than this is not searched for in free text (it would hide ordinary words)


def is_env_name(name: object) -> bool:
    """Whether ``name`` can name an environment variable (letters, digits and _, not starting with a digit)."""
    return isinstance(name, str) and _ENV_NAME.fullmatch(name) is not None


def redact_url(url: str) -> str:
    """``url`` with its user information replaced by ``***`` and every secret-looking query value by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    if "@" in netloc:  # as urlsplit reads it: the host is after the last @
        netloc = HIDDEN + "@" + netloc.rpartition("@")[2]
    path, qmark, query = tail.partition("?")
    if qmark:
        query, hash_, fragment = query.partition("#")
        query = _PARAM.sub(_hide_param, query) + hash_ + fragment
    return f"{scheme}://{netloc}{path}{qmark}{query}"


def _hide_param(m: re.Match[str]) -> str:
    if not SECRET_PARAM.search(unquote(m["name"])) or not m["value"]:
        return m[0]
    return f"{m['sep']}{m['name']}={HIDDEN}"


def url_secrets(url: str) -> tuple[str, ...]:
    """The secrets ``url`` holds, as typed and percent-decoded: its user name and password, and the value of
    every secret-looking query parameter."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found = [parts.username, parts.password]
    for m in _PARAM.finditer(parts.query):
        if SECRET_PARAM.search(unquote(m["name"])):
            found.append(m["value"])
    out: list[str] = []
    for s in found:
        if s:
            out.extend(v for v in (s, unquote(s)) if v not in out)
    return tuple(out)


def redact_text(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every URL in it redacted (``redact_url``), secret-looking query parameters hidden even
    without their URL ('/v1/x?api_key=...'), key-shaped tokens hidden, and each ``known`` secret (at least
    ``MIN_KNOWN`` characters long) replaced wherever it appears."""
    for secret in sorted((s for s in known if s and len(s) >= MIN_KNOWN), key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m[0]), text)
    if "=" in text:
        text = _TEXT_PARAM.sub(_hide_param, text)
    return _KEY_SHAPED.sub(HIDDEN, text)


def scrub(doc: Any, known: Iterable[str] = ()) -> Any:
    """``doc`` (a JSON-like document) with the value under every secret-looking key hidden and every string
    redacted (``redact_text``), however deep."""
    known = tuple(known)
    if isinstance(doc, Mapping):
        return {k: (HIDDEN if SECRET_FIELD.search(str(k)) and v is not None else scrub(v, known)) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [scrub(v, known) for v in doc]
    if isinstance(doc, str):
        return redact_text(doc, known)
    return doc
