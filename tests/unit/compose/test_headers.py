"""List-Unsubscribe: https only (RFC 8058), and no mailto nobody reads."""

from __future__ import annotations

from digest.compose.headers import list_unsubscribe
from tests.compose_support import compose_settings, links, paper, pick, prepared, subscriber

URL = "https://digest.example.org/unsubscribe/tok"


def test_https_and_mailto_with_one_click() -> None:
    header = list_unsubscribe(URL, "unsubscribe@lists.example.net", "tok")
    assert header.startswith(f"List-Unsubscribe: <{URL}>,")
    assert "<mailto:unsubscribe@lists.example.net?subject=unsubscribe%20tok>" in header
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in header


def test_an_http_url_is_never_advertised_nor_one_click() -> None:
    header = list_unsubscribe("http://127.0.0.1:8000/unsubscribe/tok", "u@lists.example.net", "t")
    assert "http://" not in header and "One-Click" not in header
    assert header.startswith("List-Unsubscribe: <mailto:u@lists.example.net")
    assert list_unsubscribe("http://127.0.0.1:8000/unsubscribe/tok", "", "t") == ""


def test_an_empty_mailto_leaves_the_mailto_out_and_the_send_works() -> None:
    settings = compose_settings(sender={"unsubscribe_mailto": ""})
    sub = subscriber()
    message = prepared([paper(1)], settings).message(sub, [pick(paper(1))], links(sub))
    head = message.data.split(b"\r\n\r\n", 1)[0].decode()
    assert "List-Unsubscribe: <https://digest.example.org/unsubscribe/" in head
    assert "mailto:" not in head and "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in head
