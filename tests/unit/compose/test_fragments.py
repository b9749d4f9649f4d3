"""Quoted-printable chunks: the shortcut for links gives the general encoder's bytes."""

from __future__ import annotations

import binascii
import random

import pytest

from digest.compose.fragments import _qp_general, qp_chunk

_PLAIN = [c for c in map(chr, range(33, 127)) if c != "="] + ["."] * 5


@pytest.mark.parametrize("seed", range(4))
def test_plain_lines_encode_as_the_general_path_does(seed: int) -> None:
    rng = random.Random(seed)
    for length in range(1, 400):
        text = "".join(rng.choice(_PLAIN) for _ in range(length))
        if rng.random() < 0.3:
            text = text[:-1] + "."
        encoded = qp_chunk(text)
        assert encoded == _qp_general(text)
        assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
        assert binascii.a2b_qp(encoded.replace(b"=\r\n", b"")) == text.encode()


@pytest.mark.parametrize("text", [".", "a b", "x=y", "é", "tab\there", "line\nbreak", "a" * 152])
def test_other_text_takes_the_general_path(text: str) -> None:
    assert qp_chunk(text) == _qp_general(text)
