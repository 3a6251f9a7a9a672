"""One pooled async HTTP client that times streamed completions.

Connections are pooled and kept alive, and ``prewarm`` opens them before a level starts, so TCP
set-up never lands in TTFT. The hot path per chunk is: one ``perf_counter_ns`` call, the SSE split,
one ``json.loads``. Every failure is classified into an ``ErrorKind`` (or ``http_<status>``) and
returned as a ``RequestResult``; nothing is swallowed into a string, nothing raises out of ``send``.
"""

from __future__ import annotations

import asyncio
import email.utils
import ssl
import time
from types import TracebackType
from typing import Any

import httpx

from tcobench.errors import InputError
from tcobench.loadgen import api as _api
from tcobench.loadgen.api import Api, MalformedEvent
from tcobench.loadgen.prompts import Prompt
from tcobench.loadgen.result import ErrorKind, RequestResult, http_error
from tcobench.loadgen.sse import SSEDecoder

now_ns = time.perf_counter_ns
SHARDS = 16


def base_url(url: str) -> str:
    """'http://host:8000/v1/' -> 'http://host:8000'. The API path is added per request."""
    u = url.strip().rstrip("/")
    if u.endswith("/v1"):
        u = u[:-3]
    if not u.startswith(("http://", "https://")):
        raise InputError(f"--url {url!r} is not an http(s) URL; expected e.g. http://127.0.0.1:8000")
    return u


class Client:
    """``async with Client(...) as c: await c.send(...)``. The API key lives only in a header."""

    def __init__(self, url: str, model: str, api: Api = Api.CHAT, *, api_key: str | None = None,
                 timeout_s: float = 300.0, max_connections: int = 1024, ignore_eos: bool = True) -> None:
        self.url, self.model, self.api = base_url(url), model, api
        self.timeout_s, self.ignore_eos = timeout_s, ignore_eos
        self._key = api_key
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # httpcore's pool scans every connection it holds on each request start and end (cost grows with
        # the square of the connections in flight), so the pool is split into shards and a request goes
        # to the least busy one. trust_env=False: an environment proxy would sit inside every timing.
        tls = ssl.create_default_context()  # one context for all shards (loading CA roots costs ~20 ms)
        self._shards = [httpx.AsyncClient(
            base_url=self.url, headers=headers, trust_env=False, verify=tls,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        ) for _ in range(SHARDS)]
        self._busy = [0] * SHARDS

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()

    async def prewarm(self, connections: int) -> int:
        """Open up to ``connections`` keep-alive connections (concurrent GET /v1/models) so that the
        first timed requests find them ready. Returns how many answered; failures are not fatal
        here, they show up, classified, in the timed requests."""

        async def one(shard: httpx.AsyncClient) -> bool:
            try:
                r = await shard.get("/v1/models")
                return r.status_code < 500
            except httpx.HTTPError:
                return False

        # requests fill the least busy shard first, so n in flight use shards 0..n-1, ceil(n/SHARDS) each
        per = -(-max(0, connections) // SHARDS)
        used = self._shards[:max(0, min(SHARDS, connections))]
        results = await asyncio.gather(*(one(shard) for shard in used for _ in range(per)))
        return sum(results)

    async def send(self, index: int, prompt: Prompt, max_tokens: int | None, *, intended_ns: int,
                   warmup: bool = False) -> RequestResult:
        """Send one streamed request and time it. Never raises (except on programming errors)."""
        doc = _api.body(self.api, self.model, prompt, max_tokens, ignore_eos=self.ignore_eos)
        chunks: list[int] = []
        usage: list[int | None] = [None, None]  # completion, prompt
        k = self._busy.index(min(self._busy))
        self._busy[k] += 1
        http = self._shards[k]
        sent = now_ns()

        def result(error: str | None = None, detail: str | None = None, retry: float | None = None) -> RequestResult:
            if detail and self._key:  # a server may echo the key back in an error body
                detail = detail.replace(self._key, "***")
            return RequestResult(index=index, warmup=warmup, intended_ns=intended_ns, sent_ns=sent, done_ns=now_ns(),
                                 chunk_ns=tuple(chunks), output_tokens=usage[0], prompt_tokens=usage[1],
                                 error=error, detail=detail, retry_after_s=retry)

        try:
            async with asyncio.timeout(self.timeout_s):
                async with http.stream("POST", self.api.path, json=doc) as resp:
                    if resp.status_code != 200:
                        text = (await resp.aread())[:200].decode("utf-8", "replace")
                        return result(http_error(resp.status_code), text.strip() or resp.reason_phrase,
                                      retry_after(resp.headers.get("retry-after")))
                    done = await self._read_stream(resp, chunks, usage)
            if not done:
                return result(ErrorKind.INCOMPLETE_STREAM, "the stream ended without [DONE]")
            if not chunks:
                return result(ErrorKind.NO_OUTPUT, "the stream carried no generated text")
            return result()
        except _ServerEvent as err:
            return result(ErrorKind.SERVER_ERROR_EVENT, str(err))
        except MalformedEvent as err:
            return result(ErrorKind.MALFORMED_SSE, str(err))
        except (TimeoutError, httpx.TimeoutException):
            return result(ErrorKind.TIMEOUT, f"no complete answer within {self.timeout_s:g} s")
        except httpx.ConnectError as err:
            refused = _caused_by(err, ConnectionRefusedError)
            return result(ErrorKind.CONNECTION_REFUSED if refused else ErrorKind.CONNECT_ERROR, _reason(err))
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
            return result(ErrorKind.CONNECTION_RESET, _reason(err))
        except httpx.HTTPError as err:
            return result(ErrorKind.CONNECT_ERROR, _reason(err))
        except asyncio.CancelledError:
            # Ctrl-C: the runner cancels requests in flight and keeps this record of them
            return result(ErrorKind.CANCELLED, "stopped by the user")
        finally:
            self._busy[k] -= 1

    async def _read_stream(self, resp: httpx.Response, chunks: list[int], usage: list[int | None]) -> bool:
        decoder, api, done = SSEDecoder(), self.api, False
        async for raw in resp.aiter_raw():
            t = now_ns()
            for data in decoder.feed(raw):
                done = _event(data, api, t, chunks, usage) or done
        for data in decoder.close():
            done = _event(data, api, now_ns(), chunks, usage) or done
        return done


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
