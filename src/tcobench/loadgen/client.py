"""One pooled async HTTP client that times streamed completions.

Connections are pooled and kept alive (``transport.Pool``), and ``prewarm`` opens them before a
level starts, so TCP (and TLS) set-up never lands in TTFT. The send time is taken just before the
request's bytes are written. The hot path per chunk runs inside the connection's ``data_received``:
one ``perf_counter_ns`` call, chunked framing, the SSE split, one ``json.loads``. Every failure is
classified into an ``ErrorKind`` (or ``http_<status>``) and returned as a ``RequestResult``; nothing
is swallowed into a string, nothing raises out of ``send``.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import time
from types import TracebackType
from typing import Any, Self
import re
from urllib.parse import quote as urlquote
from urllib.parse import unquote, urlsplit, urlunsplit

import tcobench
from tcobench.credentials import redact_text, redact_url, url_secrets
from tcobench.errors import InputError
from tcobench.loadgen import api as _api
from tcobench.loadgen.api import Api, MalformedEvent
from tcobench.loadgen.prompts import Prompt
from tcobench.loadgen.result import ErrorKind, RequestResult, http_error
from tcobench.loadgen.sse import SSEDecoder
from tcobench.loadgen.transport import ConnectFailed, ConnectionClosed, Pool, ProtocolError, TransportError

now_ns = time.perf_counter_ns
_parse = _api.parse
ERROR_BODY_BYTES = 200  # of a non-200 answer's body, kept as the reason
ERROR_BODY_READ = 4 * ERROR_BODY_BYTES  # read, then redacted, then cut: a cut never leaves part of a secret


def base_url(url: str) -> str:
    """'http://host:8000/v1/' -> 'http://host:8000'. The API path is added per request; a query
    ('?api-version=...') is kept and sent with every request. Credentials in the URL stay in what this returns
    (the request needs them): ``credentials.redact_url`` it before showing or saving it; every message here shows
    it redacted.

    Checked here, where the URL enters: an http(s) scheme, a host, a port from 1 to 65535 when one is given, and
    balanced brackets around an IPv6 address; InputError naming {url} otherwise (urllib's ValueError for a port of
    99999 or 'abc', or for 'http://[::1', was a traceback). A path outside ASCII is percent-encoded, as a browser
    does (the query too): the request line is sent as bytes. A fragment is refused (it is never sent)."""
    u = url.strip()
    shown = repr(redact_url(u))
    expected = "expected e.g. http://127.0.0.1:8000"
    if not u.startswith(("http://", "https://")):
        raise InputError(f"{{url}} {shown} is not an http(s) URL; {expected}", params=("url",))
    try:
        parts = urlsplit(u)
        port = parts.port
    except ValueError as err:  # a port out of range or not a number, an unclosed '[' of an IPv6 address
        raise InputError(f"{{url}} {shown} is not a valid URL ({redact_text(str(err))}); {expected}",
                         params=("url",)) from None
    host = parts.hostname or ""
    if not host:
        raise InputError(f"{{url}} {shown} names no host; {expected}", params=("url",))
    if not _HOST.fullmatch(host):
        raise InputError(f"{{url}} {shown}: host {host!r} is not a host name or an IP address (ASCII letters, digits, "
                         f"'.', '-'; an internationalised name in its xn-- form); {expected}", params=("url",))
    if port == 0:
        raise InputError(f"{{url}} {shown}: port 0 is not a port to connect to; {expected}", params=("url",))
    if parts.fragment or u.endswith("#"):
        raise InputError(f"{{url}} {shown}: a fragment is not sent to the API; give the server's base URL, {expected}",
                         params=("url",))
    path = urlquote(parts.path.rstrip("/").removesuffix("/v1"), safe="/%:@!$&'()*+,;=-._~")
    query = urlquote(parts.query, safe="/%:@!$&'()*+,;=-._~?")  # sent as Latin-1 bytes too
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?", re.ASCII)  # a name or IPv4; IPv6 (a zone)


class Client:
    """``async with Client(...) as c: await c.send(...)``. Credentials live only in the request head: the API
    key as a bearer token, else the URL's user information as basic authentication; a URL query (which may hold
    a key) goes with every request. ``url`` is the endpoint with its credentials redacted; every credential is
    also hidden in error text a server echoes back."""

    def __init__(self, url: str, model: str, api: Api = Api.CHAT, *, api_key: str | None = None,
                 timeout_s: float = 300.0, max_connections: int = 1024, ignore_eos: bool = True) -> None:
        target = base_url(url)
        self.url, self.model, self.api = redact_url(target), model, api
        self.timeout_s, self.ignore_eos = timeout_s, ignore_eos
        self._secrets = tuple(s for s in (api_key, *url_secrets(target)) if s)
        parts = urlsplit(target)
        # no proxy from the environment: a proxy would sit inside every timing
        self._pool = Pool(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}", max_connections=max_connections,
                          connect_timeout_s=min(timeout_s, 10.0))
        path = parts.path.rstrip("/") + api.path + (f"?{parts.query}" if parts.query else "")
        if api_key:
            auth = f"Authorization: Bearer {api_key}\r\n"
        elif parts.username is not None:  # as curl and browsers send a URL's user:password
            userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            auth = f"Authorization: Basic {base64.b64encode(userinfo).decode('ascii')}\r\n"
        else:
            auth = ""
        self._head = (f"POST {path} HTTP/1.1\r\nHost: {self._pool.authority}\r\n"
                      f"User-Agent: tcobench/{tcobench.__version__}\r\nAccept: text/event-stream\r\n"
                      f"Content-Type: application/json\r\n{auth}Content-Length: ").encode("latin-1")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def prewarm(self, connections: int) -> int:
        """Open up to ``connections`` keep-alive connections so that the first timed requests find
        them ready. Returns how many are open; failures are not fatal here, they show up, classified,
        in the timed requests."""
        return await self._pool.prewarm(connections)

    async def send(self, index: int, prompt: Prompt, max_tokens: int | None, *, intended_ns: int,
                   warmup: bool = False) -> RequestResult:
        """Send one streamed request and time it. Never raises (except on programming errors)."""
        body = json.dumps(_api.body(self.api, self.model, prompt, max_tokens, ignore_eos=self.ignore_eos)).encode()
        stream = _Stream(self.api, now_ns())

        def result(error: str | None = None, detail: str | None = None, retry: float | None = None) -> RequestResult:
            if detail:  # a server may echo a credential back in an error body
                detail = redact_text(detail, self._secrets)[:ERROR_BODY_BYTES]
            return RequestResult(index=index, warmup=warmup, intended_ns=intended_ns, sent_ns=stream.sent,
                                 done_ns=now_ns(), chunk_ns=tuple(stream.chunks), output_tokens=stream.usage[0],
                                 prompt_tokens=stream.usage[1], error=error, detail=detail, retry_after_s=retry)

        try:
            async with asyncio.timeout(self.timeout_s):
                await self._pool.request(b"%s%d\r\n\r\n%s" % (self._head, len(body), body), stream)
            if stream.code != 200:
                text = bytes(stream.error_body[:ERROR_BODY_READ]).decode("utf-8", "replace").strip()
                return result(http_error(stream.code), text or f"HTTP {stream.code}", retry_after(stream.retry))
            stream.close()
            if not stream.done:
                return result(ErrorKind.INCOMPLETE_STREAM, "the stream ended without [DONE]")
            if not stream.chunks:
                return result(ErrorKind.NO_OUTPUT, "the stream carried no generated text")
            return result()
        except _ServerEvent as err:
            return result(ErrorKind.SERVER_ERROR_EVENT, str(err))
        except MalformedEvent as err:
            return result(ErrorKind.MALFORMED_SSE, str(err))
        except TimeoutError:
            return result(ErrorKind.TIMEOUT, f"no complete answer within {self.timeout_s:g} s")
        except ConnectFailed as err:
            if isinstance(err.__cause__, TimeoutError):
                return result(ErrorKind.TIMEOUT, str(err))
            refused = _caused_by(err, ConnectionRefusedError)
            return result(ErrorKind.CONNECTION_REFUSED if refused else ErrorKind.CONNECT_ERROR, _reason(err))
        except ProtocolError as err:
            return result(ErrorKind.PROTOCOL_ERROR, _reason(err))
        except ConnectionClosed as err:
            return result(ErrorKind.CONNECTION_RESET, _reason(err))
        except TransportError as err:
            return result(ErrorKind.CONNECT_ERROR, _reason(err))
        except asyncio.CancelledError as err:
            # a signal or the level's deadline: the runner cancels requests in flight and keeps this record of them
            return result(ErrorKind.CANCELLED, str(err.args[0]) if err.args else "cancelled")


class _Stream:
    """The sink of one request: status, SSE events timed on arrival, or an error body."""

    __slots__ = ("api", "chunks", "code", "decoder", "done", "error_body", "retry", "sent", "usage")

    def __init__(self, api: Api, sent: int) -> None:
        self.api, self.sent, self.code = api, sent, 0
        self.retry: str | None = None
        self.error_body = bytearray()
        self.decoder = SSEDecoder()
        self.chunks: list[int] = []
        self.usage: list[int | None] = [None, None]  # completion, prompt
        self.done = False

    def sending(self, t_ns: int) -> None:
        self.sent = t_ns

    def status(self, code: int, headers: dict[str, str]) -> None:
        self.code = code
        if code != 200:
            self.retry = headers.get("retry-after")

    def body(self, data: bytes, t_ns: int) -> None:
        if self.code != 200:
            if len(self.error_body) < ERROR_BODY_READ:
                self.error_body += data
            return
        for event in self.decoder.feed(data):
            if event == b"[DONE]":
                self.done = True
                continue
            delta = _parse(event, self.api)
            if delta.text:
                self.chunks.append(t_ns)
            elif delta.error is not None:
                raise _ServerEvent(delta.error)
            if delta.completion_tokens is not None:
                self.usage[0], self.usage[1] = delta.completion_tokens, delta.prompt_tokens

    def close(self) -> None:
        for event in self.decoder.close():
            if _event(event, self.api, now_ns(), self.chunks, self.usage):
                self.done = True


class _ServerEvent(Exception):
    """The server reported an error inside the stream."""


def _event(data: bytes, api: Api, t: int, chunks: list[int], usage: list[int | None]) -> bool:
    if data == _api.DONE:
        return True
    delta = _api.parse(data, api)
    if delta.error is not None:
        raise _ServerEvent(delta.error)
    if delta.text:
        chunks.append(t)
    if delta.completion_tokens is not None:
        usage[0], usage[1] = delta.completion_tokens, delta.prompt_tokens
    return False


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _caused_by(err: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:200]


def describe(client: Client) -> dict[str, Any]:
    return {"url": client.url, "model": client.model, "api": str(client.api), "timeout_s": client.timeout_s,
            "ignore_eos": client.ignore_eos}
