"""VERP envelope senders name their delivery, and forged ones name nothing."""

from __future__ import annotations

import pytest

from digest.sending.verp import DeliveryRef, Verp

SECRET = "test-secret-key-0123456789abcdef0123456789"


def test_an_envelope_sender_names_its_delivery() -> None:
    verp = Verp("bounces@digest.example.org", SECRET)
    address = verp.envelope_sender(12, 3456)
    local, _, domain = address.partition("@")
    assert domain == "digest.example.org" and local.startswith("bounces+12-3456-")
    assert len(local) <= 64 and local == local.lower()
    assert verp.read_address(address) == DeliveryRef(12, 3456)
    assert verp.read_address(address.upper()) == DeliveryRef(12, 3456)  # case folded by an MTA


def test_a_forged_or_foreign_token_names_nothing() -> None:
    verp = Verp("bounces@digest.example.org", SECRET)
    token = verp.token(12, 3456)
    assert verp.read_token(token.replace("12-", "13-", 1)) is None
    assert Verp("bounces@digest.example.org", "another-secret-0123456789").read_token(token) is None
    assert verp.read_address("bounces@digest.example.org") is None
    assert verp.read_address("someone+hello@example.org") is None


@pytest.mark.parametrize("address", ["bounces", "@example.org", "bounces+x@example.org"])
def test_a_wrong_verp_address_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="verp_address"):
        Verp(address, SECRET)
