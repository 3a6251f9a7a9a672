"""``credentials``: what counts as a credential in a URL, in text and in a document, and what is left shown."""

from __future__ import annotations

import pytest

from tcobench.credentials import is_env_name, redact_text, redact_url, scrub, url_secrets
from tcobench.loadgen.client import base_url


@pytest.mark.parametrize("url, shown", [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://u:sk-1@h:8000/p?api_key=sk-2&v=1", "http://***@h:8000/p?api_key=***&v=1"),
    ("https://sk-only@h/v1", "https://***@h/v1"),
    ("http://a@b:c@h/x", "http://***@h/x"),  # as urlsplit reads it, the host follows the last @
    ("https://h/v1?api-version=2024-02&access_token=x#frag", "https://h/v1?api-version=2024-02&access_token=***#frag"),
    ("https://h/?X-Amz-Credential=a&X-Amz-Signature=b&sig=c&Token=d&password=e&session=f&model=g",
     "https://h/?X-Amz-Credential=***&X-Amz-Signature=***&sig=***&Token=***&password=***&session=***&model=g"),
    ("https://h/?token=&key=1", "https://h/?token=&key=***"),  # an empty value hides nothing
    ("postgresql://u:***@db/x?sslpassword=p", "postgresql://***@db/x?sslpassword=***"),
    ("not a url", "not a url"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert redact_url(shown) == shown  # idempotent


def test_url_secrets_are_the_credentials_as_typed_and_decoded() -> None:
    assert url_secrets("http://us%40er:p%2Fw@h/?api_key=k%3D1&v=2") == ("us%40er", "us@er", "p%2Fw", "p/w", "k%3D1", "k=1")
    assert url_secrets("http://h:8000/v1?api-version=1") == ()


@pytest.mark.parametrize("text, known, shown", [
    ("url 'http://u:pw@h/v1' failed", (), "url 'http://***@h/v1' failed"),
    ("POST /v1/chat?api_key=abc&x=1 -> 401", (), "POST /v1/chat?api_key=***&x=1 -> 401"),
    ("label sk-ABCDEFGHIJKLMNOPQ, hf_ABCDEFGHIJKLMNOP, Bearer abc.def=", (), "label ***, ***, ***"),
    ("the key was k3y-value!", ("k3y-value",), "the key was ***!"),
    ("pw is abc", ("abc",), "pw is abc"),  # shorter than MIN_KNOWN: not searched for, it would hide ordinary words
    ("task-1234567890123456 and ask-me", (), "task-1234567890123456 and ask-me"),  # not key-shaped
])
def test_redact_text(text: str, known: tuple[str, ...], shown: str) -> None:
    assert redact_text(text, known) == shown


def test_scrub_hides_secret_fields_and_redacts_every_string_however_deep() -> None:
    doc = {"url": "http://u:p@h", "api_key": "x", "Authorization": None, "key_env_var": "OPENAI_API_KEY",
           "levels": [{"note": "sk-ABCDEFGHIJKLMNOPQRS", "output_tokens": 3}], "n": 1.5}
    assert scrub(doc) == {"url": "http://***@h", "api_key": "***", "Authorization": None,
                          "key_env_var": "OPENAI_API_KEY", "levels": [{"note": "***", "output_tokens": 3}], "n": 1.5}


@pytest.mark.parametrize("name, ok", [("OPENAI_API_KEY", True), ("_k1", True), ("sk-abc", False), ("1KEY", False),
                                      ("", False), ("A B", False), ("KEY=1", False), (None, False)])
def test_is_env_name(name: object, ok: bool) -> None:
    assert is_env_name(name) is ok


@pytest.mark.parametrize("url, base", [
    ("http://host:8000/v1/", "http://host:8000"),
    (" https://h/api/v1 ", "https://h/api"),
    ("http://u:p@h:1/v1?api-version=2&api_key=k", "http://u:p@h:1?api-version=2&api_key=k"),  # kept for sending
])
def test_base_url_keeps_what_the_request_needs(url: str, base: str) -> None:
    assert base_url(url) == base
