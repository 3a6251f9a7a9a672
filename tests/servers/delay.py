"""A precise delay server for timing and client-cost benchmarks: one thread, raw sockets, pre-built chunks.

The scripted server (scripted.py) is an asyncio server that builds every event with ``json.dumps`` and
sleeps per stream; at hundreds of streams its own event loop falls behind, and the delay it adds shows
up in the client's TTFT. This one does as little as a server can per token: a heap of due times, one
``send`` of pre-built bytes per token, and ``epoll`` waits that end a little early followed by a short
spin (``epoll`` rounds timeouts up to whole milliseconds). It keeps its own clock readings
(``time.perf_counter_ns``, CLOCK_MONOTONIC: the same clock as the client's on the same machine), so a
benchmark can tell the server's lateness from the client's: ``GET /stats`` returns and clears them.

    python -m tests.servers.delay --port P --ttft 0.05 --tpot 0.01 [--tokens 32]

Each POST to /v1/completions or /v1/chat/completions gets the response headers at once, then token k
at received + TTFT + k x TPOT, a usage event, [DONE]. ``received`` is when the whole request was read.
"""

from __future__ import annotations

import argparse
import heapq
import json
import selectors
import socket
import time
from dataclasses import dataclass, field

now_ns = time.perf_counter_ns
KEY_CHARS = 48
SPIN_NS = 1_100_000  # wake this long before a due time, then spin: epoll rounds its timeout up to 1 ms


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(doc: object) -> bytes:
    return _chunk(b"data: " + json.dumps(doc, separators=(",", ":")).encode() + b"\n\n")


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
END = _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"
ROLE = _event({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    inbuf: bytes = b""
    out: bytearray = field(default_factory=bytearray)
    busy: bool = False  # a stream is in progress (requests are served one after another)
    closed: bool = False


@dataclass
class _Stream:
    conn: _Conn
    chat: bool
    n: int
    prompt_tokens: int
    received: int
    first: int  # due time of token 0
    key: str  # the prompt's first characters: lets a benchmark match the client's record to this one


class DelayServer:
    def __init__(self, *, ttft_s: float, tpot_s: float, tokens: int | None = None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.ttft_ns, self.tpot_ns, self.tokens = int(ttft_s * 1e9), int(tpot_s * 1e9), tokens
        self.listener = socket.create_server((host, port), backlog=4096)
        self.listener.setblocking(False)
        self.host, self.port = host, self.listener.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.heap: list[tuple[int, int, int, _Stream]] = []  # (due ns, seq, token k, stream)
        self.seq = 0
        self.pieces: dict[tuple[bool, int], bytes] = {}
        # clock readings since the last GET /stats: per stream (key, received, token 0 due, token 0 sent),
        # and the lateness of every token
        self.firsts: list[tuple[int, int, int]] = []
        self.late_ns: list[int] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def piece(self, chat: bool, k: int, last: bool) -> bytes:
        key = (chat, k if not last else -1 - k)
        data = self.pieces.get(key)
        if data is None:
            finish = "length" if last else None
            part = {"delta": {"content": f" w{k}"}} if chat else {"text": f" w{k}"}
            data = self.pieces[key] = _event({"object": "chunk", "choices": [{"index": 0, **part,
                                                                              "finish_reason": finish}]})
        return data

    # -- the loop -------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        heap = self.heap
        while True:
            now = now_ns()
            while heap and heap[0][0] <= now:
                due, _, k, st = heapq.heappop(heap)
                if not st.conn.closed:
                    self._token(st, k, due)
                now = now_ns()
            if heap:
                wait = heap[0][0] - now
                timeout: float | None = 0.0 if wait <= SPIN_NS else (wait - SPIN_NS) / 1e9
            else:
                timeout = None
            for key, events in self.sel.select(timeout):
                if key.data is None:
                    self._accept()
                elif events & selectors.EVENT_READ:
                    self._read(key.data)
                elif events & selectors.EVENT_WRITE:
                    self._flush(key.data)

    def _token(self, st: _Stream, k: int, due: int) -> None:
        last = k == st.n - 1
        data = self.piece(st.chat, k, last)
        if last:
            data += _event({"choices": [], "usage": {"prompt_tokens": st.prompt_tokens, "completion_tokens": st.n,
                                                     "total_tokens": st.n + st.prompt_tokens}}) + END
        self._send(st.conn, data)
        t = now_ns()
        self.late_ns.append(t - due)
        if k == 0:
            self.firsts.append((st.key, st.received, due, t))
        if last:
            st.conn.busy = False
            if st.conn.inbuf:  # a pipelined request waited for this one
                self._requests(st.conn)
        else:
            self.seq += 1
            heapq.heappush(self.heap, (st.first + (k + 1) * self.tpot_ns, self.seq, k + 1, st))

    # -- sockets --------------------------------------------------------------------------------
    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sel.register(sock, selectors.EVENT_READ, _Conn(sock))

    def _close(self, conn: _Conn) -> None:
        conn.closed = True
        try:
            self.sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(262144)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        conn.inbuf += data
        if not conn.busy:
            self._requests(conn)

    def _send(self, conn: _Conn, data: bytes) -> None:
        if conn.closed:
            return
        if conn.out:
            conn.out += data
            return
        try:
            sent = conn.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(conn)
            return
        if sent < len(data):
            conn.out += data[sent:]
            self.sel.modify(conn.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)

    def _flush(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        del conn.out[:sent]
        if not conn.out:
            self.sel.modify(conn.sock, selectors.EVENT_READ, conn)

    # -- HTTP -----------------------------------------------------------------------------------
    def _requests(self, conn: _Conn) -> None:
        while not conn.busy and not conn.closed:
            end = conn.inbuf.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = conn.inbuf[:end].decode("latin-1").split("\r\n")
            method, path = lines[0].split(" ", 2)[:2]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(conn.inbuf) < end + 4 + length:
                return
            received = now_ns()
            body, conn.inbuf = conn.inbuf[end + 4:end + 4 + length], conn.inbuf[end + 4 + length:]
            if method == "POST" and path in ("/v1/completions", "/v1/chat/completions"):
                self._start(conn, json.loads(body), path.endswith("chat/completions"), received)
            elif path == "/stats":
                firsts, self.firsts, late, self.late_ns = self.firsts, [], self.late_ns, []
                self._json(conn, 200, {"firsts": firsts, "late_ns": late})
            elif path == "/v1/models":
                self._json(conn, 200, {"object": "list", "data": [{"id": "delay", "object": "model"}]})
            else:
                self._json(conn, 404, {"error": {"message": f"no route {path}"}})

    def _json(self, conn: _Conn, status: int, doc: object) -> None:
        data = json.dumps(doc).encode()
        self._send(conn, b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                   % (status, len(data), data))

    def _start(self, conn: _Conn, req: dict, chat: bool, received: int) -> None:  # type: ignore[type-arg]
        n = self.tokens if self.tokens is not None else int(req.get("max_tokens") or 16)
        prompt = req.get("prompt") or " ".join(m["content"] for m in req.get("messages", []))
        st = _Stream(conn, chat, n, len(str(prompt).split()), received, received + self.ttft_ns, str(prompt)[:KEY_CHARS])
        conn.busy = True
        self._send(conn, HEAD + ROLE if chat else HEAD)
        self.seq += 1
        heapq.heappush(self.heap, (st.first, self.seq, 0, st))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ttft", type=float, default=0.05)
    ap.add_argument("--tpot", type=float, default=0.01)
    ap.add_argument("--tokens", type=int, default=None)
    args = ap.parse_args()
    server = DelayServer(ttft_s=args.ttft, tpot_s=args.tpot, tokens=args.tokens, host=args.host, port=args.port)
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
