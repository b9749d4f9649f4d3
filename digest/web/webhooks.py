"""Provider webhooks: bounces and complaints reported by Amazon SES (through SNS), Postmark,
Mailgun and SendGrid. Each endpoint is off (404) until its secret is configured, refuses posts
that are unsigned or wrongly signed (403), and hands the reports to ``digest.inbound``. Each
accepted post's single-use value (Mailgun's token, which its signature does not bind to the
event; SendGrid's signed timestamp and body; the SNS MessageId; Postmark's body) is recorded,
and a post that reuses one is refused with 406 (Mailgun's "do not retry").

The SNS signing certificate is fetched through ``app.state.sns_certificates`` (a
``CertificateFetcher``; by default ``SnsCertificates``, https from SNS domains only)."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from digest.inbound import providers, signatures
from digest.inbound.process import Inbound, Replayed
from digest.inbound.report import Report
from digest.inbound.signatures import WebhookRefused
from digest.inbound.sns import CertificateFetcher, SnsCertificates
from digest.web.state import Web, web_of
from papercore.errors import InputError

log = logging.getLogger("digest.web")
_DEFAULT_FETCHER = SnsCertificates()


def _off() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def _refused(exc: InputError) -> Response:
    log.warning("webhook refused: %s", exc.one_line())
    status = 403 if isinstance(exc, WebhookRefused) else 400
    return PlainTextResponse(exc.one_line(), status_code=status)


def _unreadable(request: Request) -> Response:
    log.exception("webhook %s refused: cannot read the post", request.url.path)
    return PlainTextResponse("cannot read this webhook post", status_code=400)


async def _process(
    web: Web, reports: Sequence[Report], via: str, nonce: str, *, timed: bool
) -> Response:
    def run() -> int:
        return len(
            Inbound(web.engine, web.settings, clock=web.clock).handle_reports(
                reports, via=via, key=f"{via}:{nonce}", nonce=nonce, timed=timed
            )
        )

    try:
        processed = await run_in_threadpool(run)
    except Replayed as exc:
        log.warning("webhook refused: %s", exc.one_line())
        return PlainTextResponse(exc.one_line(), status_code=406)
    return JSONResponse({"processed": processed})


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _json_object(body: bytes, what: str) -> Mapping[str, Any]:
    try:
        found = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # (nested too deeply)
        raise InputError(f"{what}: the body is not JSON we can read") from exc
    if not isinstance(found, Mapping):
        raise InputError(f"{what}: expected a JSON object")
    return found


async def ses(request: Request) -> Response:
    """SNS notifications of SES bounces and complaints; the topic must be configured."""
    web = web_of(request)
    topics = web.settings.inbound.ses_topic_arns
    if not topics:
        return _off()
    fetcher: CertificateFetcher = getattr(request.app.state, "sns_certificates", _DEFAULT_FETCHER)
    try:
        message = _json_object(await request.body(), "SNS message")
        if message.get("TopicArn") not in topics:
            raise WebhookRefused("SNS message for a topic that is not configured")
        url = signatures.check_sns_certificate_url(str(message.get("SigningCertURL", "")))
        signatures.verify_sns(message, await fetcher.fetch(url), url=url, now=web.clock())
        kind = message.get("Type")
        if kind == "Notification":
            reports = providers.ses_reports(message)
        elif kind == "SubscriptionConfirmation":
            # Confirming is the operator's decision: kept, with the URL to visit.
            detail = f"SNS subscription confirmation: visit {message.get('SubscribeURL', '')}"
            reports = [Report("unknown", detail=detail[:300])]
        else:
            reports = []
    except InputError as exc:
        return _refused(exc)
    except Exception:  # a post we trip over: the sender gets a 4xx, never a traceback
        return _unreadable(request)
    nonce = str(message.get("MessageId") or "") or _digest(json.dumps(message).encode())
    return await _process(web, reports, "ses", nonce, timed=False)


async def postmark(request: Request) -> Response:
    """Postmark bounce and spam-complaint webhooks, behind basic auth."""
    web = web_of(request)
    settings = web.settings.inbound
    password = settings.postmark_password.get_secret_value()
    if not password:
        return _off()
    body = await request.body()
    try:
        signatures.check_basic_auth(
            request.headers.get("authorization", ""), settings.postmark_username, password
        )
        reports = providers.postmark_reports(body)
    except InputError as exc:
        return _refused(exc)
    except Exception:  # a post we trip over: the sender gets a 4xx, never a traceback
        return _unreadable(request)
    return await _process(web, reports, "postmark", _digest(body), timed=False)


async def mailgun(request: Request) -> Response:
    """Mailgun webhooks (JSON), signed with the webhook signing key."""
    web = web_of(request)
    settings = web.settings.inbound
    key = settings.mailgun_signing_key.get_secret_value()
    if not key:
        return _off()
    try:
        body = _json_object(await request.body(), "Mailgun webhook")
        signature = body.get("signature")
        if not isinstance(signature, Mapping):
            raise WebhookRefused("Mailgun signature missing")
        signatures.verify_mailgun(key, signature, web.clock(), settings.webhook_max_age_seconds)
        event_data = body.get("event-data")
        if not isinstance(event_data, Mapping):
            raise InputError("Mailgun webhook: event-data missing")
        reports = providers.mailgun_reports(event_data)
    except InputError as exc:
        return _refused(exc)
    except Exception:  # a post we trip over: the sender gets a 4xx, never a traceback
        return _unreadable(request)
    return await _process(web, reports, "mailgun", str(signature.get("token", "")), timed=True)


async def sendgrid(request: Request) -> Response:
    """SendGrid's signed event webhook (ECDSA over timestamp + body)."""
    web = web_of(request)
    settings = web.settings.inbound
    if not settings.sendgrid_public_key:
        return _off()
    body = await request.body()
    timestamp = request.headers.get("x-twilio-email-event-webhook-timestamp", "")
    try:
        signatures.verify_sendgrid(
            settings.sendgrid_public_key,
            request.headers.get("x-twilio-email-event-webhook-signature", ""),
            timestamp,
            body,
            web.clock(),
            settings.webhook_max_age_seconds,
        )
        reports = providers.sendgrid_reports(body)
    except InputError as exc:
        return _refused(exc)
    except Exception:  # a post we trip over: the sender gets a 4xx, never a traceback
        return _unreadable(request)
    # the signed content, not the signature: an ECDSA signature can be altered and stay valid
    return await _process(web, reports, "sendgrid", _digest(timestamp.encode(), body), timed=True)


routes = [
    Route("/webhooks/ses", ses, methods=["POST"]),
    Route("/webhooks/postmark", postmark, methods=["POST"]),
    Route("/webhooks/mailgun", mailgun, methods=["POST"]),
    Route("/webhooks/sendgrid", sendgrid, methods=["POST"]),
]
