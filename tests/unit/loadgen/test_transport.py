"""The HTTP/1.1 response parser of ``transport.Connection``, fed bytes cut at every possible place."""

from __future__ import annotations

import asyncio

import pytest

from tcobench.loadgen.transport import Connection, ConnectionClosed, ProtocolError


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.aborted = False

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.written += data

    def abort(self) -> None:
        self.aborted = True


class Sink:
    def __init__(self) -> None:
        self.code = 0
        self.headers: dict[str, str] = {}
        self.data = b""
        self.times: list[int] = []

    def sending(self, t_ns: int) -> None:
        pass

    def status(self, code: int, headers: dict[str, str]) -> None:
        self.code, self.headers = code, headers

    def body(self, data: bytes, t_ns: int) -> None:
        self.data += data
        self.times.append(t_ns)


CHUNKED = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"f\r\ndata: {\"a\":1}\n\n\r\n" b"12;ext=1\r\ndata: [DONE]\n\n1234\r\n" b"0\r\nX-Trailer: 1\r\n\r\n")
LENGTH = b"HTTP/1.1 429 Too Many\r\nRetry-After: 0.3\r\nContent-Length: 5\r\n\r\nslow!"
INTERIM = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nno"


def run(pieces: list[bytes], close: bool = False) -> tuple[Sink, asyncio.Future[bool], FakeTransport]:
    async def go() -> tuple[Sink, asyncio.Future[bool], FakeTransport]:
        conn, tr, sink = Connection(), FakeTransport(), Sink()
        conn.connection_made(tr)
        done = conn.start(b"GET / HTTP/1.1\r\n\r\n", sink)
        for p in pieces:
            conn.data_received(p)
        if close:
            conn.connection_lost(None)
        if done.done():
            done.exception()  # retrieved; the test looks at it
        return sink, done, tr
    return asyncio.run(go())


@pytest.mark.parametrize("raw, code, body", [
    (CHUNKED, 200, b'data: {"a":1}\n\ndata: [DONE]\n\n1234'),
    (LENGTH, 429, b"slow!"),
    (INTERIM, 404, b"no"),
])
def test_responses_parse_the_same_however_the_bytes_are_cut(raw: bytes, code: int, body: bytes) -> None:
    for cut in range(1, len(raw)):
        for pieces in ([raw[:cut], raw[cut:]], [raw[i:i + 1] for i in range(len(raw))] if cut == 1 else []):
            if not pieces:
                continue
            sink, done, _ = run(pieces)
            assert done.done() and done.result() is True, cut
            assert (sink.code, sink.data) == (code, body), cut
    sink, _, _ = run([raw])
    if code == 429:
        assert sink.headers["retry-after"] == "0.3"


def test_connection_close_ends_a_body_without_length_and_is_not_reused() -> None:
    sink, done, _ = run([b"HTTP/1.1 200 OK\r\n\r\ndata: x\n\n"], close=True)
    assert done.result() is False and sink.data == b"data: x\n\n"


def test_close_mid_stream_is_connection_closed() -> None:
    _, done, _ = run([CHUNKED[:100]], close=True)
    assert isinstance(done.exception(), ConnectionClosed)


def test_garbage_is_a_protocol_error_and_drops_the_connection() -> None:
    _, done, tr = run([b"SSH-2.0-OpenSSH\r\n\r\n"])
    assert isinstance(done.exception(), ProtocolError) and tr.aborted
    first_chunk_end = CHUNKED.index(b"\n\n\r\n") + 4
    _, done, tr = run([CHUNKED[:first_chunk_end] + b"zz\r\n"])
    assert isinstance(done.exception(), ProtocolError) and tr.aborted
    for bad in (b"zz\r\nab\r\n", b"-2\r\nab\r\n", b"+2\r\nab\r\n", b"\r\nab\r\n"):  # also in a read of its own
        _, done, tr = run([CHUNKED[:first_chunk_end], bad])
        assert isinstance(done.exception(), ProtocolError) and tr.aborted, bad


@pytest.mark.parametrize("head", [b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"])
def test_a_bad_status_line_or_length_is_a_protocol_error(head: bytes) -> None:
    _, done, tr = run([head])  # before, a bad Content-Length raised ValueError out of the client
    assert isinstance(done.exception(), ProtocolError) and tr.aborted


def test_one_read_gives_one_timestamp_to_every_event_in_it() -> None:
    sink, _, _ = run([CHUNKED])
    assert len(set(sink.times)) == 1


def test_an_ipv6_origin_is_bracketed_in_the_host_header() -> None:
    from tcobench.loadgen.transport import Pool

    assert Pool("http://[::1]:9").authority == "[::1]:9"  # RFC 7230 5.4: Host = uri-host [ ":" port ], IP-literal bracketed
    assert Pool("http://127.0.0.1:8000").authority == "127.0.0.1:8000"
    assert Pool("http://[::1]").authority == "[::1]"
