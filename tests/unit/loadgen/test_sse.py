import pytest

from tcobench.loadgen.sse import SSEDecoder


def test_events_split_across_arbitrary_chunk_boundaries() -> None:
    stream = b'data: {"a": 1}\n\ndata: {"b": 2}\r\n\r\n: comment\nevent: x\ndata: [DONE]\n\n'
    for cut in range(1, len(stream)):
        d = SSEDecoder()
        got = d.feed(stream[:cut]) + d.feed(stream[cut:]) + d.close()
        assert got == [b'{"a": 1}', b'{"b": 2}', b"[DONE]"], cut


def test_multiline_data_is_joined_with_newline_and_space_after_colon_is_optional() -> None:
    d = SSEDecoder()
    assert d.feed(b"data:one\ndata: two\n\n") == [b"one\ntwo"]


def test_event_without_final_blank_line_is_returned_on_close() -> None:
    d = SSEDecoder()
    assert d.feed(b"data: x") == []
    assert d.close() == [b"x"]
    assert d.close() == []


@pytest.mark.parametrize("noise", [b"\n\n\n", b": keep-alive\n\n", b"id: 3\nretry: 10\n\n"])
def test_lines_without_data_produce_no_event(noise: bytes) -> None:
    assert SSEDecoder().feed(noise) == []
