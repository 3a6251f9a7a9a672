"""``transport.Pool`` against a tiny keep-alive server in the same event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from tcobench.loadgen.transport import ConnectFailed, Pool

BODY = b"hello"
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class Sink:
    def __init__(self) -> None:
        self.code, self.data, self.sent = 0, b"", 0

    def sending(self, t_ns: int) -> None:
        self.sent = t_ns

    def status(self, code: int, headers: dict[str, str]) -> None:
        self.code = code

    def body(self, data: bytes, t_ns: int) -> None:
        self.data += data


async def with_server(test: Callable[[Pool, list[int]], Awaitable[None]], *, close_after: bool = False,
                      max_connections: int = 8) -> list[int]:
    """Run ``test(pool, accepted)``; the server answers every request with BODY after 10 ms."""
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                await asyncio.sleep(0.01)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
                await writer.drain()
                if close_after:  # an idle keep-alive connection closed by the server
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = Pool(f"http://127.0.0.1:{port}", max_connections=max_connections, connect_timeout_s=5)
    try:
        await test(pool, accepted)
    finally:
        await pool.aclose()
        server.close()
    return accepted


def test_connections_are_reused_and_capped() -> None:
    async def test(pool: Pool, accepted: list[int]) -> None:
        sinks = [Sink() for _ in range(6)]
        await asyncio.gather(*(pool.request(REQUEST, s) for s in sinks))
        assert all(s.code == 200 and s.data == BODY for s in sinks)
        for s in sinks:  # one after another: the same connection every time
            await pool.request(REQUEST, s)

    assert len(asyncio.run(with_server(test, max_connections=2))) == 2


def test_prewarm_opens_connections_before_the_first_request() -> None:
    async def test(pool: Pool, accepted: list[int]) -> None:
        assert await pool.prewarm(3) == 3
        await asyncio.sleep(0.01)
        assert len(accepted) == 3
        await asyncio.gather(*(pool.request(REQUEST, Sink()) for _ in range(3)))
        assert len(accepted) == 3

    asyncio.run(with_server(test))


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async def test(pool: Pool, accepted: list[int]) -> None:
        await pool.request(REQUEST, Sink())
        await asyncio.sleep(0.05)  # the server's FIN arrives while the connection is idle
        s = Sink()
        await pool.request(REQUEST, s)
        assert s.data == BODY and len(accepted) == 2

    asyncio.run(with_server(test, close_after=True))


def test_cancelling_a_request_drops_its_connection_and_frees_the_slot() -> None:
    async def test(pool: Pool, accepted: list[int]) -> None:
        task = asyncio.create_task(pool.request(REQUEST, Sink()))
        await asyncio.sleep(0.002)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        s = Sink()
        await asyncio.wait_for(pool.request(REQUEST, s), 2)  # the only slot is free again
        assert s.data == BODY and len(accepted) == 2

    asyncio.run(with_server(test, max_connections=1))


def test_nothing_listening_is_connect_failed_caused_by_refusal() -> None:
    async def test() -> None:
        pool = Pool("http://127.0.0.1:9", connect_timeout_s=2)
        with pytest.raises(ConnectFailed) as err:
            await pool.request(REQUEST, Sink())
        assert isinstance(err.value.__cause__, ConnectionRefusedError)
        assert await pool.prewarm(2) == 0

    asyncio.run(test())
