"""Provider webhook bodies as ``Report``s (pure; the signatures are checked before this).

Amazon SES (an SNS notification whose Message is the SES event), Postmark (one bounce or spam
complaint per post), Mailgun (one ``event-data`` per post) and SendGrid (a list of events).
Events that say nothing about a failure (delivered, opened, clicked, processed) give no report;
events of a kind we do not act on become ``unknown`` reports, kept for the operator.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from digest.inbound.report import Kind, Report
from papercore.errors import InputError

_QUIET_SENDGRID = {"processed", "delivered", "open", "click"}
_QUIET_MAILGUN = {"accepted", "delivered", "opened", "clicked", "stored"}


def _json(body: bytes | str, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # (nested too deeply)
        raise InputError(f"{what}: the body is not JSON we can read") from exc


def _object(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(f"{what}: expected a JSON object")
    return value


def _message_id(value: Any) -> tuple[str, ...]:
    text = str(value or "").strip()
    if not text:
        return ()
    return (text if text.startswith("<") else f"<{text}>",)


def _provider_id(value: Any) -> tuple[str, ...]:
    text = str(value or "").strip().strip("<>")
    return (text,) if text else ()


def _detail(*parts: Any) -> str:
    return " ".join(" ".join(str(p) for p in parts if p not in (None, "")).split())[:300]


def ses_reports(sns_message: Mapping[str, Any]) -> list[Report]:
    """The reports in one SES event (an SNS Notification's ``Message``, already verified)."""
    event = _object(_json(str(sns_message.get("Message", "")), "SES notification"), "SES event")
    kind = str(event.get("notificationType") or event.get("eventType") or "")
    mail = _object(event.get("mail") or {}, "SES mail")
    ids = _message_id(_object(mail.get("commonHeaders") or {}, "SES headers").get("messageId"))
    verp = (str(mail["source"]).lower(),) if mail.get("source") else ()
    provider_ids = _provider_id(mail.get("messageId"))  # SES's SMTP reply: "250 Ok <id>"
    if kind == "Bounce":
        bounce = _object(event.get("bounce") or {}, "SES bounce")
        bounce_type = str(bounce.get("bounceType", ""))
        found: Kind = {"Permanent": "hard_bounce", "Transient": "soft_bounce"}.get(
            bounce_type, "unknown"
        )  # type: ignore[assignment]
        return [
            Report(
                found,
                addresses=(str(r.get("emailAddress", "")).lower(),),
                detail=_detail(
                    "SES",
                    bounce_type,
                    bounce.get("bounceSubType"),
                    r.get("status"),
                    r.get("diagnosticCode"),
                ),
                verp_candidates=verp,
                message_ids=ids,
                provider_ids=provider_ids,
            )
            for r in bounce.get("bouncedRecipients") or []
            if isinstance(r, Mapping)
        ]
    if kind == "Complaint":
        complaint = _object(event.get("complaint") or {}, "SES complaint")
        return [
            Report(
                "complaint",
                addresses=(str(r.get("emailAddress", "")).lower(),),
                detail=_detail("SES complaint", complaint.get("complaintFeedbackType")),
                verp_candidates=verp,
                message_ids=ids,
                provider_ids=provider_ids,
            )
            for r in complaint.get("complainedRecipients") or []
            if isinstance(r, Mapping)
        ]
    if kind in ("Delivery", "Send", "Open", "Click"):
        return []
    return [Report("unknown", detail=_detail("SES event", kind or "without a type"))]


_POSTMARK: dict[str, Kind] = {
    "HardBounce": "hard_bounce",
    "BadEmailAddress": "hard_bounce",
    "SoftBounce": "soft_bounce",
    "Transient": "soft_bounce",
    "DnsError": "soft_bounce",
    "AutoResponder": "auto_reply",
    "SpamComplaint": "complaint",
}


def postmark_reports(body: bytes) -> list[Report]:
    """The report in one Postmark bounce or spam-complaint webhook post."""
    event = _object(_json(body, "Postmark webhook"), "Postmark webhook")
    record = str(event.get("RecordType", ""))
    if record in ("Delivery", "Open", "Click"):
        return []
    kind = "complaint" if record == "SpamComplaint" else _POSTMARK.get(str(event.get("Type")))
    return [
        Report(
            kind or "unknown",
            addresses=(str(event.get("Email", "")).lower(),) if event.get("Email") else (),
            detail=_detail("Postmark", record, event.get("Type"), event.get("Description")),
            provider_ids=_provider_id(event.get("MessageID")),  # its SMTP reply names it
        )
    ]


def mailgun_reports(event_data: Mapping[str, Any]) -> list[Report]:
    """The report in one Mailgun webhook's ``event-data`` (signature already checked)."""
    event = str(event_data.get("event", ""))
    if event in _QUIET_MAILGUN:
        return []
    kind: Kind = "unknown"
    if event == "failed":
        permanent = event_data.get("severity") == "permanent"
        kind = "hard_bounce" if permanent else "soft_bounce"
    elif event == "complained":
        kind = "complaint"
    elif event == "unsubscribed":
        kind = "unsubscribe"
    message = _object(event_data.get("message") or {}, "Mailgun message")
    headers = _object(message.get("headers") or {}, "Mailgun headers")
    status = _object(event_data.get("delivery-status") or {}, "Mailgun delivery-status")
    envelope = _object(event_data.get("envelope") or {}, "Mailgun envelope")
    recipient = str(event_data.get("recipient", "")).lower()
    return [
        Report(
            kind,
            addresses=(recipient,) if recipient else (),
            detail=_detail(
                "Mailgun",
                event,
                event_data.get("severity"),
                status.get("code"),
                status.get("message") or status.get("description"),
            ),
            verp_candidates=(str(envelope["sender"]).lower(),) if envelope.get("sender") else (),
            message_ids=_message_id(headers.get("message-id")),
        )
    ]


def sendgrid_reports(body: bytes) -> list[Report]:
    """The reports in one SendGrid event webhook post (a JSON list of events)."""
    events = _json(body, "SendGrid webhook")
    if not isinstance(events, list):
        raise InputError("SendGrid webhook: expected a JSON list of events")
    reports: list[Report] = []
    for item in events:
        event = _object(item, "SendGrid event")
        name = str(event.get("event", ""))
        if name in _QUIET_SENDGRID:
            continue
        kind: Kind = "unknown"
        if name == "bounce":
            kind = "soft_bounce" if event.get("type") == "blocked" else "hard_bounce"
        elif name == "deferred":
            kind = "soft_bounce"
        elif name == "spamreport":
            kind = "complaint"
        elif name in ("unsubscribe", "group_unsubscribe"):
            kind = "unsubscribe"
        address = str(event.get("email", "")).lower()
        reports.append(
            Report(
                kind,
                addresses=(address,) if address else (),
                detail=_detail(
                    "SendGrid", name, event.get("type"), event.get("status"), event.get("reason")
                ),
                message_ids=_message_id(event.get("smtp-id")),
                # "<X-Message-Id>.filter...": the X-Message-Id is what its SMTP reply names
                provider_ids=_provider_id(str(event.get("sg_message_id") or "").split(".")[0]),
            )
        )
    return reports
