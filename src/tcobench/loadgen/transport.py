"""A small HTTP/1.1 keep-alive client transport for timing streamed responses.

Why not a general HTTP library: the client's own CPU cost per request bounds the load it can offer
and adds to every latency it measures. A general client (httpx measured 3-4 ms of CPU per 16-token
stream, most of it in its connection pool and stream plumbing) does far more per request and per
chunk than a benchmark needs. This one does only what OpenAI-compatible servers use: one request
written with a single ``write``, a response read by an ``asyncio.Protocol`` whose ``data_received``
takes the arrival timestamp, undoes chunked framing and hands the payload bytes to a ``Sink``
(the SSE parser) in the same call: no task switch, no await and no copy per chunk beyond slicing.

    Pool          keep-alive connections to one origin, opened ahead of time by ``prewarm``
    Connection    one TCP (or TLS) connection; parses status line, headers and body framing
    Sink          what the caller gives a request: gets the status, body bytes with their arrival
                  time, and the end of the response

Failures surface as exceptions from ``Pool.request``: ``ConnectFailed`` (nothing connected; its
cause tells refused from other errors), ``ConnectionClosed`` (the peer closed or reset the
connection before the response ended), ``ProtocolError`` (bytes that are not HTTP/1.1), or whatever
the sink raised while reading (the connection is then dropped, since the rest of the response is
still on the wire).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from typing import Protocol
from urllib.parse import urlsplit

now_ns = time.perf_counter_ns


class Sink(Protocol):
    def sending(self, t_ns: int) -> None: ...

    def status(self, code: int, headers: dict[str, str]) -> None: ...

    def body(self, data: bytes, t_ns: int) -> None: ...


class TransportError(Exception):
    """Base of the transport's own failures."""


class ConnectFailed(TransportError):
    """No connection could be opened; ``__cause__`` holds the OS error (e.g. ConnectionRefusedError)."""


class ConnectionClosed(TransportError):
    """The peer closed or reset the connection before the response was complete."""


class ProtocolError(TransportError):
    """The peer sent bytes that are not an HTTP/1.1 response."""


_IDLE, _HEAD, _LENGTH, _UNTIL_CLOSE, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER = range(8)
_MAX_HEAD = 64 * 1024


class Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.alive = False
        self._sink: Sink | None = None
        self._done: asyncio.Future[bool] | None = None
        self._state = _IDLE
        self._buf = b""
        self._left = 0  # bytes left in the current chunk (or in a Content-Length body)
        self._keep = True
        self.answered = False  # any byte of the current request's response has arrived

    # -- asyncio.Protocol ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.alive = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        if self._state == _UNTIL_CLOSE and exc is None:
            self._finish(keep=False)
        elif self._done is not None and not self._done.done():
            err = ConnectionClosed(_why(exc))
            if exc is not None:
                err.__cause__ = exc
            self._done.set_exception(err)

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost tells the request, if there is one

    def data_received(self, data: bytes) -> None:
        t = now_ns()  # arrival time of everything in this read
        self.answered = True
        try:
            if self._state >= _CHUNK_SIZE:  # a streamed response: the hot path
                if self._state == _CHUNK_SIZE and not self._buf:  # fast path: the read is exactly one chunk
                    eol = data.find(b"\r\n")
                    try:
                        size = int(data[:eol], 16) if 0 < eol < 9 and data[:eol].isalnum() else 0
                    except ValueError:
                        size = 0  # the general path below says what is wrong
                    if size > 0:
                        start = eol + 2
                        end = start + size
                        if end + 2 == len(data) and data[end:] == b"\r\n" and self._sink:
                            self._sink.body(data[start:end], t)
                            return
                if self._buf:
                    data, self._buf = self._buf + data, b""
                self._chunked(data, t)
            else:
                self._feed(data, t)
        except Exception as err:  # noqa: BLE001 - a sink's or the parser's error ends this request and connection
            self._fail(err)

    # -- one request -----------------------------------------------------------------------------
    def start(self, request: bytes, sink: Sink) -> asyncio.Future[bool]:
        """Write ``request`` and return a future that is done when the response has ended (result:
        whether the connection can be reused) or has failed."""
        assert self.transport is not None and self._state == _IDLE
        self._sink, self._state, self._buf, self._keep, self.answered = sink, _HEAD, b"", True, False
        self._done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._done

    def abort(self) -> None:
        self.alive = False
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, err: BaseException) -> None:
        self.abort()
        if self._done is not None and not self._done.done():
            self._done.set_exception(err)

    def _finish(self, keep: bool) -> None:
        self._state, self._sink, self._buf = _IDLE, None, b""
        if self._done is not None and not self._done.done():
            self._done.set_result(keep and self._keep and self.alive)

    def _feed(self, data: bytes, t: int) -> None:
        if self._state == _HEAD:
            data = self._buf + data if self._buf else data
            end = data.find(b"\r\n\r\n")
            if end < 0:
                if len(data) > _MAX_HEAD:
                    raise ProtocolError("response head larger than 64 KiB")
                self._buf = data
                return
            self._buf = b""
            self._head(data[:end])
            data = data[end + 4:]
            if self._state == _HEAD:  # after an interim response
                self._feed(data, t)
                return
            if self._state == _IDLE or not data:
                return
        if self._state == _LENGTH:
            take = data[:self._left]
            self._left -= len(take)
            if take and self._sink is not None:
                self._sink.body(take, t)
            if self._left == 0:
                self._finish(keep=True)
        elif self._state == _UNTIL_CLOSE:
            if data and self._sink is not None:
                self._sink.body(data, t)
        else:
            self._chunked(data, t)

    def _head(self, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
        code = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if parts[0] == "HTTP/1.0" or headers.get("connection", "").lower() == "close":
            self._keep = False
        if 100 <= code < 200:  # an interim response (100 Continue): the real one follows
            self._state = _HEAD
            return
        assert self._sink is not None
        self._sink.status(code, headers)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._state = _CHUNK_SIZE
        elif "content-length" in headers:
            length = headers["content-length"]
            if not length.isdigit():
                raise ProtocolError(f"bad Content-Length {length[:20]!r}")
            self._state, self._left = _LENGTH, int(length)
            if self._left == 0:
                self._finish(keep=True)
        elif code in (204, 304):
            self._finish(keep=True)
        else:
            self._state, self._keep = _UNTIL_CLOSE, False

    def _chunked(self, data: bytes, t: int) -> None:
        """Undo chunked framing. A chunk's payload goes to the sink as soon as it has arrived; only
        an incomplete size or trailer line is kept (in ``_buf``) for the next read."""
        sink, pos, n = self._sink, 0, len(data)
        while pos < n:
            state = self._state
            if state == _CHUNK_SIZE:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    break
                size_field = data[pos:eol].split(b";", 1)[0].strip()
                if not size_field or size_field.lstrip(b"0123456789abcdefABCDEF"):
                    raise ProtocolError(f"bad chunk size {size_field[:20]!r}")
                self._left = int(size_field, 16)
                pos = eol + 2
                self._state = _CHUNK_DATA if self._left else _TRAILER
            elif state == _CHUNK_DATA:
                end = pos + self._left
                if end <= n:  # the whole payload is here: the usual case
                    if sink is not None:
                        sink.body(data[pos:end] if pos or end < n else data, t)
                    pos, self._state, self._left = end, _CHUNK_END, 2
                else:  # a payload split across reads: hand over what is here, keep counting
                    if sink is not None:
                        sink.body(data[pos:], t)
                    self._left -= n - pos
                    pos = n
            elif state == _CHUNK_END:  # the CRLF after a payload
                take = min(self._left, n - pos)
                pos += take
                self._left -= take
                if self._left == 0:
                    self._state = _CHUNK_SIZE
            elif state == _TRAILER:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    break
                if eol == pos:  # the blank line that ends the message
                    if eol + 2 < n:
                        raise ProtocolError("bytes after the end of the response")
                    self._finish(keep=True)
                    return
                pos = eol + 2  # a trailer field: ignored
            else:
                return
        if pos < n:
            self._buf = data[pos:]


def _why(exc: BaseException | None) -> str:
    if exc is None:
        return "the server closed the connection before the response ended"
    return (str(exc).strip() or type(exc).__name__).splitlines()[0][:200]


class Pool:
    """Keep-alive connections to one origin (``http://host:port`` or ``https://...``)."""

    def __init__(self, origin: str, *, max_connections: int = 1024, connect_timeout_s: float = 10.0,
                 tls: ssl.SSLContext | None = None) -> None:
        u = urlsplit(origin)
        self.https = u.scheme == "https"
        self.host = u.hostname or "127.0.0.1"
        self.port = u.port or (443 if self.https else 80)
        default = 443 if self.https else 80
        name = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 address is bracketed in a Host header
        self.authority = name if self.port == default else f"{name}:{self.port}"
        self.max_connections, self.connect_timeout_s = max_connections, connect_timeout_s
        self._tls = (tls or ssl.create_default_context()) if self.https else None
        self._idle: list[Connection] = []
        self._open = 0  # connections open or being opened
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        self._open += 1
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                _, conn = await loop.create_connection(
                    Connection, self.host, self.port, ssl=self._tls, server_hostname=self.host if self._tls else None)
        except (OSError, TimeoutError, ssl.SSLError) as err:
            self._open -= 1
            self._wake()
            raise ConnectFailed(_why(err) if not isinstance(err, TimeoutError) else
                                f"no connection within {self.connect_timeout_s:g} s") from err
        except BaseException:
            self._open -= 1
            self._wake()
            raise
        return conn

    async def acquire(self) -> tuple[Connection, bool]:
        """A connection, and whether it came from the idle pool (where the server may have closed it)."""
        while True:
            while self._idle:
                conn = self._idle.pop()  # most recently used first: warm in every cache
                if conn.alive:
                    return conn, True
                self._open -= 1
            if self._open < self.max_connections:
                return await self.connect(), False
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if not waiter.cancelled():
                    self._wake()
                raise

    def release(self, conn: Connection, reusable: bool) -> None:
        if reusable and conn.alive:
            self._idle.append(conn)
        else:
            conn.abort()
            self._open -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            w = self._waiters.popleft()
            if not w.done():
                w.set_result(None)
                return

    async def prewarm(self, connections: int) -> int:
        """Open idle connections until ``connections`` are open (or the limit is reached). Returns
        how many are idle and alive afterwards; connect failures are not raised here."""
        want = min(connections, self.max_connections) - self._open

        async def one() -> Connection | None:
            try:
                return await self.connect()
            except ConnectFailed:
                return None

        for conn in await asyncio.gather(*(one() for _ in range(max(0, want)))):
            if conn is not None:
                self._idle.append(conn)
        return sum(1 for c in self._idle if c.alive)

    async def request(self, data: bytes, sink: Sink) -> None:
        """Send one request (head and body) and feed the response to ``sink``. ``sink.sending`` gets
        the send time (``now_ns``) just before the bytes are written, after any connection set-up.
        Raises on failure; on cancellation the connection is dropped.

        A connection taken from the idle pool that closes before any byte of the answer arrives is most
        likely one the server had already closed as idle (vLLM's HTTP server closes keep-alive connections
        idle for VLLM_HTTP_TIMEOUT_KEEP_ALIVE = 5 s; the close can still be in flight when the connection
        is reused): the request is sent
        once more on a new connection, as HTTP clients do for stale keep-alive connections. The send
        time stays the first attempt's, so the reconnect is inside the measured latency."""
        conn, pooled = await self.acquire()
        sink.sending(now_ns())
        while True:
            keep = False
            try:
                keep = await conn.start(data, sink)
                return
            except ConnectionClosed:
                if not pooled or conn.answered:
                    raise
            finally:
                self.release(conn, keep)
            conn, pooled = await self.connect(), False

    async def aclose(self) -> None:
        for conn in self._idle:
            conn.abort()
        self._open -= len(self._idle)
        self._idle.clear()
