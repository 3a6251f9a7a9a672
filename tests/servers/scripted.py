"""A scripted OpenAI-compatible streaming server, in-process, for faults and timing accuracy.

It speaks just enough HTTP/1.1 (keep-alive, chunked streams) for an OpenAI client, streams one
token per event after a chosen TTFT and inter-token delay, and misbehaves on request: each POST gets
a fault from ``plan(n)`` (n = 0, 1, 2, ... in arrival order):

    "ok"                  a normal stream
    "status:CODE[:RETRY]" an HTTP error, with a Retry-After header when RETRY is given
    "reset:K"             K token events, then a TCP reset (SO_LINGER 0)
    "drop"                the connection closed without an answer, as a server closing an idle
                          keep-alive connection just as a request arrives on it
    "malformed"           one event whose data is not JSON
    "stall"               one token event, then silence (the client's timeout must fire)
    "no_done"             a complete stream whose final [DONE] is missing, cleanly ended
    "error_event"         a well-formed {"error": ...} event mid-stream
    "bad_status"          a status line that is not HTTP (``HTTP/1.1 abc OK``), then the connection closed

``kill()`` closes the listener and aborts every connection, as a crashed server would.
Run as a process for benchmarks: ``python -m tests.servers.scripted --port P --ttft 0.05 --tpot 0.01``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

now_ns = time.perf_counter_ns


@dataclass
class Served:
    """What the server did for one POST: its own clock readings (perf_counter_ns, same clock as the client)."""

    fault: str
    received_ns: int
    token_ns: list[int] = field(default_factory=list)


class ScriptedServer:
    def __init__(self, *, ttft_s: float = 0.0, tpot_s: float = 0.0, tokens: int | None = None,
                 plan: Callable[[int], str] | None = None, usage: bool = True, host: str = "127.0.0.1",
                 port: int = 0, precise: bool = True) -> None:
        self.ttft_s, self.tpot_s, self.tokens, self.usage = ttft_s, tpot_s, tokens, usage
        self.plan = plan or (lambda n: "ok")
        self.host, self.port, self.precise = host, port, precise
        self.served: list[Served] = []
        self.posts = 0
        self.on_headers: Callable[[str], None] | None = None  # sees each request's Authorization header
        self.targets: list[str] = []  # each request's target as sent: path and query
        self.bodies: list[bytes] = []  # each POST's body, in arrival order
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- running in a background thread (tests) ---------------------------------------------------
    def __enter__(self) -> ScriptedServer:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("scripted server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def kill(self) -> None:
        """From another thread: stop listening and abort every open connection."""
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=4096)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            _reset(w)
        self._writers.clear()

    # -- HTTP ------------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                received = now_ns()
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                self.targets.append(target)
                path = target.partition("?")[0]
                headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if self.on_headers is not None:
                    self.on_headers(headers.get("authorization", ""))
                if method == "GET":
                    await self._json(writer, 200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                elif method == "POST" and path in ("/v1/completions", "/v1/chat/completions"):
                    n = self.posts
                    self.posts += 1
                    self.bodies.append(body)
                    echo = f"{headers.get('authorization', '')} at {target}"  # credentials a careless server echoes
                    if not await self._stream(writer, json.loads(body), path.endswith("chat/completions"),
                                              self.plan(n), received, echo):
                        return
                else:
                    await self._json(writer, 404, {"error": {"message": f"no route {path}"}})
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            if not writer.is_closing():
                writer.close()

    async def _json(self, writer: asyncio.StreamWriter, status: int, doc: object, extra: str = "") -> None:
        data = json.dumps(doc).encode()
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                     f"{extra}\r\n".encode() + data)
        await writer.drain()

    async def _stream(self, writer: asyncio.StreamWriter, req: dict, chat: bool, fault: str, received: int,
                      echo: str) -> bool:
        """Serve one POST; False when the connection is gone afterwards."""
        served = Served(fault, received)
        self.served.append(served)
        kind, _, arg = fault.partition(":")
        if kind == "drop":
            writer.close()
            return False
        if kind == "bad_status":
            writer.write(b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return False
        if kind == "status":
            code, _, retry = arg.partition(":")
            # like some real APIs, echo the credential back: the client must never let it out
            await self._json(writer, int(code), {"error": {"message": f"scripted {code} for {echo}"}},
                             f"Retry-After: {retry}\r\n" if retry else "")
            return True
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        n = self.tokens if self.tokens is not None else int(req.get("max_tokens") or 16)
        if chat:
            _event(writer, {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})
        start = received + int(self.ttft_s * 1e9)
        for k in range(n):
            await self._sleep_until(start + int(k * self.tpot_s * 1e9))
            if kind == "reset" and k == int(arg):
                _reset(writer)
                return False
            if kind == "malformed" and k == 1:
                writer.write(_chunk(b"data: {this is not json\n\n"))
                continue
            if kind == "error_event" and k == 1:
                _event(writer, {"error": {"message": "scripted failure", "code": 500}})
                break
            finish = "length" if k == n - 1 else None
            piece = {"index": 0, "delta": {"content": f" w{k}"}} if chat else {"index": 0, "text": f" w{k}"}
            _event(writer, {"object": "chunk", "choices": [{**piece, "finish_reason": finish}]})
            served.token_ns.append(now_ns())
            await writer.drain()
            if kind == "stall":
                await asyncio.sleep(3600)
        if self.usage and kind != "error_event":
            prompt = req.get("prompt") or " ".join(m["content"] for m in req.get("messages", []))
            _event(writer, {"choices": [], "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": n,
                                                     "total_tokens": n + len(prompt.split())}})
        if kind != "no_done":
            writer.write(_chunk(b"data: [DONE]\n\n"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    async def _sleep_until(self, target: int) -> None:
        while (left := (target - now_ns()) / 1e9) > 0:
            await asyncio.sleep(left - 0.0015 if (self.precise and left > 0.0015) else (0 if self.precise else left))


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(writer: asyncio.StreamWriter, doc: object) -> None:
    writer.write(_chunk(b"data: " + json.dumps(doc).encode() + b"\n\n"))


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ttft", type=float, default=0.05)
    ap.add_argument("--tpot", type=float, default=0.01)
    ap.add_argument("--tokens", type=int, default=None)
    args = ap.parse_args()
    server = ScriptedServer(ttft_s=args.ttft, tpot_s=args.tpot, tokens=args.tokens, port=args.port)

    async def serve() -> None:
        await server.start()
        print(server.url, flush=True)
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
