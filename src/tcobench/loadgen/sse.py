"""An incremental parser for server-sent events (the WHATWG "text/event-stream" format).

Only ``data`` fields matter for OpenAI-compatible streams; ``event``, ``id``, ``retry`` and comments
are skipped. An event ends at a blank line; its data lines are joined with ``\\n``. Bytes are kept as
bytes (``json.loads`` reads them directly), so no decode step sits on the hot path.
"""

from __future__ import annotations


class SSEDecoder:
    """Feed raw bytes as they arrive; get back the data of every event completed by them."""

    __slots__ = ("_data", "_tail")

    def __init__(self) -> None:
        self._tail = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        if not self._tail and not self._data and chunk[-2:] == b"\n\n" and chunk.find(b"\n") == len(chunk) - 2 \
                and chunk[:6] == b"data: ":
            return [chunk[6:-2]]  # the usual case, one whole event "data: ...\n\n" in one piece
        lines = (self._tail + chunk).split(b"\n") if self._tail else chunk.split(b"\n")
        self._tail = lines.pop()  # an unfinished line, or b"" when the chunk ended with a newline
        out: list[bytes] = []
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    out.append(self._data[0] if len(self._data) == 1 else b"\n".join(self._data))
                    self._data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
            # other fields ("event:", "id:", "retry:") and comments (":") carry nothing we time
        return out

    def close(self) -> list[bytes]:
        """Events left when the stream ends without a final blank line (lenient, as browsers are)."""
        out = self.feed(b"\n\n") if (self._tail or self._data) else []
        self._tail, self._data = b"", []
        return out
