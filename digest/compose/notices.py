"""The one-off mails around a subscription: confirm (double opt-in), welcome, unsubscribed, manage
(a signup with an address that is already subscribed), confirm_address (a change of address, to the
new one) and address_moved (the receipt of that change, to the old one)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from digest.compose.digest import Composer
from digest.compose.environment import compile_mjml
from digest.compose.fragments import qp_chunk
from digest.compose.headers import (
    check_address,
    date_header,
    list_unsubscribe,
    unstructured,
)
from digest.compose.mime import OutgoingMessage, boundary_for, multipart_alternative
from digest.compose.text import clean
from papercore.config import Settings

NoticeKind = Literal[
    "confirm", "welcome", "unsubscribed", "manage", "confirm_address", "address_moved"
]
NOTICES: tuple[NoticeKind, ...] = (
    "confirm",
    "welcome",
    "unsubscribed",
    "manage",
    "confirm_address",
    "address_moved",
)

_SUBJECTS = {
    "confirm": "Confirm your subscription to {name}",
    "welcome": "Welcome to {name}",
    "unsubscribed": "You are unsubscribed from {name}",
    "manage": "Your {name} subscription",
    "confirm_address": "Confirm your new address for {name}",
    "address_moved": "Your {name} subscription moved to another address",
}


def _clean_fact(value: Any) -> Any:
    """A fact (a sentence, a list of topics) through text hygiene: stored text may predate it."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list | tuple):
        return [clean(v) if isinstance(v, str) else v for v in value]
    return value


def render_notice(
    composer: Composer,
    kind: NoticeKind,
    *,
    action_url: str,
    unsubscribe_url: str | None = None,
    preview_url: str | None = None,
    facts: Mapping[str, Any] | None = None,
) -> tuple[str, str, str]:
    """(subject, MJML source, plain text) of a notice."""
    if kind not in _SUBJECTS:
        raise ValueError(f"unknown notice {kind!r}; one of {', '.join(NOTICES)}")
    subject = _SUBJECTS[kind].format(name=composer.settings.app.name)
    context = composer.context(
        title=subject,
        subject=subject,
        action_url=action_url,
        unsubscribe_url=unsubscribe_url,
        preferences_url=action_url if kind in ("welcome", "manage") else None,
        preview_url=preview_url,
        **{name: _clean_fact(value) for name, value in (facts or {}).items()},
    )
    source = composer.env.get_template(f"{kind}.mjml.j2").render(context)
    text = composer.env.get_template(f"{kind}.txt.j2").render(context)
    return subject, source, text


def notice(
    kind: NoticeKind,
    settings: Settings,
    *,
    to: str,
    action_url: str,
    now: datetime,
    unsubscribe_url: str | None = None,
    preview_url: str | None = None,
    templates_dir: Path | None = None,
    facts: Mapping[str, Any] | None = None,
) -> OutgoingMessage:
    """A complete message for one of the subscription notices.

    ``action_url`` is the one thing the mail asks the reader to do: the signed confirm link
    (confirm, confirm_address), the preferences link (welcome, manage), the signup page
    (unsubscribed, address_moved).
    ``unsubscribe_url`` (welcome) also becomes the List-Unsubscribe header; ``preview_url``
    (welcome) links to a preview of the subscriber's first digest."""
    composer = Composer(settings, templates_dir)
    subject, source, text = render_notice(
        composer,
        kind,
        action_url=action_url,
        unsubscribe_url=unsubscribe_url,
        preview_url=preview_url,
        facts=facts,
    )
    html = compile_mjml(source)
    text = text.replace("\r\n", "\n")
    address = check_address(to)
    msg_id = composer.message_ids.notice(address, kind, action_url, now.isoformat())
    headers = [
        composer.static_headers,
        f"To: {address}\r\n",
        unstructured("Subject", subject),
        date_header(now),
        f"Message-ID: {msg_id}\r\n",
        unstructured("Feedback-ID", f"{kind}:notice:mail:{settings.sender.feedback_id_sender}"),
    ]
    if unsubscribe_url:
        token = unsubscribe_url.rsplit("/", 1)[-1]
        headers.append(list_unsubscribe(unsubscribe_url, settings.sender.unsubscribe_mailto, token))
    data = multipart_alternative(
        "".join(headers), boundary_for(msg_id), [qp_chunk(text)], [qp_chunk(html)]
    )
    return OutgoingMessage(address, subject, msg_id, html, text, data)
