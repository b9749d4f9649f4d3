"""Keyed Message-IDs: deterministic per delivery, unguessable without the secret, and a notice's
id checks against the address it was mailed to."""

from __future__ import annotations

import hashlib

from digest.compose.message_ids import MessageIds


def test_a_digest_id_is_the_same_for_every_attempt_and_differs_with_the_secret() -> None:
    ours = MessageIds("one secret that is long enough", "example.org")
    assert ours.digest(7, 42) == ours.digest(7, 42)  # resends and resumes keep it
    assert ours.digest(7, 42) != ours.digest(7, 43) != ours.digest(8, 42)
    assert ours.digest(7, 42) != MessageIds("another secret", "example.org").digest(7, 42)
    unkeyed = hashlib.sha256(b"digest:7:42").hexdigest()[:32]
    assert ours.digest(7, 42) != f"<{unkeyed}@example.org>"
    assert ours.is_digest(ours.digest(7, 42), 7, 42)
    assert not ours.is_digest(ours.digest(7, 42), 7, 43)


def test_a_notice_id_checks_only_against_the_address_it_was_made_for() -> None:
    ours = MessageIds("one secret that is long enough", "example.org")
    first = ours.notice("Alice@Example.org", "confirm", "https://x/confirm/t", "2026-11-21")
    again = ours.notice("alice@example.org", "confirm", "https://x/confirm/t", "2026-11-22")
    assert first != again  # one id per notice
    assert ours.is_notice_to(first, "alice@example.org")
    assert not ours.is_notice_to(first, "bob@example.org")
    assert not MessageIds("another secret", "example.org").is_notice_to(first, "alice@example.org")
    forged = first[:-30] + "0" * 16 + first[-14:]
    assert not ours.is_notice_to(forged, "alice@example.org")
    assert not ours.is_notice_to("<whatever@example.org>", "alice@example.org")
