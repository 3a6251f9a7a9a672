"""The outcome of one timed request, and the kinds of failure it is classified into."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    """Why a request did not produce a usable timed stream. HTTP errors are ``http_<status>``."""

    CONNECTION_REFUSED = "connection_refused"  # nothing listening (server down or killed)
    CONNECT_ERROR = "connect_error"            # any other failure to connect
    CONNECTION_RESET = "connection_reset"      # the peer closed or reset the connection mid-request
    PROTOCOL_ERROR = "protocol_error"          # bytes that are not HTTP/1.1 (a status line, chunk size or length)
    TIMEOUT = "timeout"                        # no complete answer within --timeout (stalled stream)
    MALFORMED_SSE = "malformed_sse"            # an event whose data is not the JSON the API defines
    SERVER_ERROR_EVENT = "server_error_event"  # a well-formed {"error": ...} event inside the stream
    INCOMPLETE_STREAM = "incomplete_stream"    # the stream ended cleanly but without [DONE]
    NO_OUTPUT = "no_output"                    # the stream finished without a single generated token
    CANCELLED = "cancelled"                    # in flight when a signal or the level's deadline stopped it; not a failure


def http_error(status: int) -> str:
    return f"http_{status}"


@dataclass(frozen=True, slots=True)
class RequestResult:
    """One request. Times are ``perf_counter_ns`` values; ``None`` means "did not happen"."""

    index: int
    warmup: bool
    intended_ns: int  # when the load pattern wanted it sent
    sent_ns: int  # when the client started sending it
    done_ns: int  # when the client finished with it (stream end, error or cancellation)
    chunk_ns: tuple[int, ...] = ()  # arrival time of every chunk carrying generated text
    output_tokens: int | None = None  # completion tokens from the server's usage, if it sent any
    prompt_tokens: int | None = None  # prompt tokens from the server's usage, if it sent any
    error: str | None = None  # an ErrorKind value or "http_<status>"; None for success
    detail: str | None = None  # a short human-readable reason, never a credential
    retry_after_s: float | None = None  # from a 429/503 Retry-After header

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def tokens(self) -> int:
        """Output tokens: the server's count if given, else the number of text chunks."""
        return self.output_tokens if self.output_tokens is not None else len(self.chunk_ns)

    @property
    def ttft_s(self) -> float | None:
        return (self.chunk_ns[0] - self.sent_ns) / 1e9 if self.chunk_ns else None

    @property
    def e2e_s(self) -> float | None:
        """Sent -> last generated token (docs/metrics.md, "E2E"), not -> end of stream."""
        return (self.chunk_ns[-1] - self.sent_ns) / 1e9 if self.chunk_ns else None

    @property
    def tpot_s(self) -> float | None:
        """(E2E - TTFT) / (n - 1), n = output tokens; undefined for fewer than two tokens."""
        n = self.tokens
        if not self.chunk_ns or n < 2:
            return None
        return (self.chunk_ns[-1] - self.chunk_ns[0]) / 1e9 / (n - 1)

    @property
    def lag_s(self) -> float:
        """Client lag: actual send time minus intended send time."""
        return (self.sent_ns - self.intended_ns) / 1e9
