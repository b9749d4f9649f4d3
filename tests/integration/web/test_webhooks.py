"""Provider webhooks: a good signature is acted on, a forged or missing one is refused (403)
and changes nothing. Keys and certificates are made here; the SNS certificate is served by a
real local HTTP server through a test fetcher (the real one only fetches from SNS domains)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy import Engine, text

from digest.inbound import store as inbound_store
from digest.inbound.signatures import sns_string_to_sign
from digest.inbound.sns import SnsCertificates
from papercore.config import Settings
from tests.integration.inbound.support import (
    CORPUS,
    delivery_status,
    message_id,
    relay_id,
    sent_digest,
    subscriber_status,
)
from tests.web_site import Clock, Site

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
MAILGUN_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def _fill(name: str, **values: str) -> str:
    text = (CORPUS / name).read_text()
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def _site(settings: Settings, engine: Engine, now: datetime, **inbound: object) -> Site:
    section = type(settings.inbound)(**(settings.inbound.model_dump() | inbound))
    return Site(settings.model_copy(update={"inbound": section}), engine, Clock(now))


# SES through SNS


@pytest.fixture(scope="module")
def sns_key() -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    start = datetime(2020, 1, 1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=36500))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def certificate_server(sns_key: tuple[rsa.RSAPrivateKey, bytes]) -> Iterator[str]:
    """A local HTTP server that serves the test certificate at any path."""
    pem = sns_key[1]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-pem-file")
            self.end_headers()
            self.wfile.write(pem)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class LocalCertificates:
    """The test fetcher: what the real one would fetch, served by the local server."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.asked: list[str] = []

    async def fetch(self, url: str) -> bytes:
        self.asked.append(url)
        async with httpx.AsyncClient() as client:
            return (await client.get(self.base + urlsplit(url).path)).content


def _sns(name: str, key: rsa.RSAPrivateKey, **values: str) -> dict[str, str]:
    message = json.loads(_fill(name, **values))
    algorithm = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    signature = key.sign(sns_string_to_sign(message), padding.PKCS1v15(), algorithm)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def test_ses_bounce_and_complaint_with_good_signatures_are_acted_on(
    engine: Engine,
    settings: Settings,
    now: datetime,
    sns_key: tuple[rsa.RSAPrivateKey, bytes],
    certificate_server: str,
) -> None:
    issue, ids = sent_digest(engine, now, ["gone@example.com", "angry@example.com"])
    site = _site(settings, engine, now, ses_topic_arns=[TOPIC])
    fetcher = LocalCertificates(certificate_server)
    site.client.app.state.sns_certificates = fetcher  # type: ignore[attr-defined]
    bounce = _sns(
        "ses_bounce.json",
        sns_key[0],
        address="gone@example.com",
        message_id=message_id(issue, ids["gone@example.com"]),
    )
    response = site.client.post("/webhooks/ses", content=json.dumps(bounce))
    assert response.status_code == 200, response.text
    assert subscriber_status(engine, "gone@example.com") == ("bounced", True)
    assert delivery_status(engine, issue, "gone@example.com") == "bounced"
    assert fetcher.asked[0].startswith("https://sns.eu-west-1.amazonaws.com/")

    complaint = _sns(
        "ses_complaint.json",
        sns_key[0],
        address="angry@example.com",
        message_id=message_id(issue, ids["angry@example.com"]),
    )
    assert site.client.post("/webhooks/ses", content=json.dumps(complaint)).status_code == 200
    assert subscriber_status(engine, "angry@example.com") == ("unsubscribed", True)
    assert delivery_status(engine, issue, "angry@example.com") == "complained"


def test_ses_forged_signature_foreign_certificate_url_and_unknown_topic_are_refused(
    engine: Engine,
    settings: Settings,
    now: datetime,
    sns_key: tuple[rsa.RSAPrivateKey, bytes],
    certificate_server: str,
) -> None:
    sent_digest(engine, now, ["gone@example.com"])
    site = _site(settings, engine, now, ses_topic_arns=[TOPIC])
    fetcher = LocalCertificates(certificate_server)
    site.client.app.state.sns_certificates = fetcher  # type: ignore[attr-defined]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = _sns("ses_bounce.json", other_key, address="gone@example.com", message_id="<x@y>")
    assert site.client.post("/webhooks/ses", content=json.dumps(forged)).status_code == 403

    good = _sns("ses_bounce.json", sns_key[0], address="gone@example.com", message_id="<x@y>")
    elsewhere = good | {"SigningCertURL": f"{certificate_server}/cert.pem"}
    response = site.client.post("/webhooks/ses", content=json.dumps(elsewhere))
    assert response.status_code == 403 and "SNS certificate URL" in response.text
    lookalike = good | {"SigningCertURL": "https://sns.eu-west-1.amazonaws.com.evil.example/c.pem"}
    assert site.client.post("/webhooks/ses", content=json.dumps(lookalike)).status_code == 403
    other_topic = _sns(
        "ses_bounce.json", sns_key[0], address="gone@example.com", message_id="<x@y>"
    ) | {"TopicArn": "arn:aws:sns:eu-west-1:999999999999:someone-else"}
    assert site.client.post("/webhooks/ses", content=json.dumps(other_topic)).status_code == 403
    assert subscriber_status(engine, "gone@example.com") == ("active", False)
    assert len(fetcher.asked) == 1  # only the forged one got as far as the certificate


def test_the_real_certificate_fetcher_refuses_urls_off_the_sns_domains() -> None:
    import asyncio

    from digest.inbound.signatures import WebhookRefused

    with pytest.raises(WebhookRefused):
        asyncio.run(SnsCertificates().fetch("https://127.0.0.1/cert.pem"))


def test_webhooks_are_off_until_configured(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    site = _site(settings, engine, now)
    for path in ("ses", "postmark", "mailgun", "sendgrid"):
        assert site.client.post(f"/webhooks/{path}", content=b"{}").status_code == 404


# Postmark


def test_postmark_with_the_right_password_is_acted_on_and_a_wrong_one_refused(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["gone@example.com", "angry@example.com"])
    site = _site(settings, engine, now, postmark_username="pm", postmark_password="s3cret-pass")
    gone_id = relay_id(issue, ids["gone@example.com"])  # what Postmark's relay answered
    body = _fill("postmark_bounce.json", address="gone@example.com", provider_id=gone_id)
    wrong = site.client.post("/webhooks/postmark", content=body, auth=("pm", "guess"))
    assert wrong.status_code == 403
    assert site.client.post("/webhooks/postmark", content=body).status_code == 403
    assert subscriber_status(engine, "gone@example.com") == ("active", False)
    good = site.client.post("/webhooks/postmark", content=body, auth=("pm", "s3cret-pass"))
    assert good.status_code == 200 and good.json() == {"processed": 1}
    assert subscriber_status(engine, "gone@example.com") == ("bounced", True)
    spam = _fill(
        "postmark_spam.json",
        address="angry@example.com",
        provider_id=relay_id(issue, ids["angry@example.com"]),
    )
    site.client.post("/webhooks/postmark", content=spam, auth=("pm", "s3cret-pass"))
    assert subscriber_status(engine, "angry@example.com") == ("unsubscribed", True)


# Mailgun


def _mailgun(name: str, now: datetime, key: str, **values: str) -> str:
    timestamp, token = str(int(now.timestamp())), hashlib.sha256(name.encode()).hexdigest()[:50]
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return _fill(name, timestamp=timestamp, token=token, signature=signature, **values)


def test_mailgun_with_a_good_hmac_is_acted_on_and_a_forged_one_refused(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["gone@example.com", "angry@example.com"])
    site = _site(settings, engine, now, mailgun_signing_key=MAILGUN_KEY)
    values = {"verp": "digest@digest.example.org"}
    mid = message_id(issue, ids["gone@example.com"]).strip("<>")
    forged = _mailgun(
        "mailgun_failed.json",
        now,
        "not-the-key",
        address="gone@example.com",
        message_id=mid,
        **values,
    )
    assert site.client.post("/webhooks/mailgun", content=forged).status_code == 403
    stale = _mailgun(
        "mailgun_failed.json",
        now - timedelta(hours=2),
        MAILGUN_KEY,
        address="gone@example.com",
        message_id=mid,
        **values,
    )
    assert site.client.post("/webhooks/mailgun", content=stale).status_code == 403
    assert subscriber_status(engine, "gone@example.com") == ("active", False)
    good = _mailgun(
        "mailgun_failed.json",
        now,
        MAILGUN_KEY,
        address="gone@example.com",
        message_id=mid,
        **values,
    )
    assert site.client.post("/webhooks/mailgun", content=good).status_code == 200
    assert delivery_status(engine, issue, "gone@example.com") == "bounced"
    complained = _mailgun(
        "mailgun_complained.json",
        now,
        MAILGUN_KEY,
        address="angry@example.com",
        message_id=message_id(issue, ids["angry@example.com"]).strip("<>"),
        **values,
    )
    assert site.client.post("/webhooks/mailgun", content=complained).status_code == 200
    assert subscriber_status(engine, "angry@example.com") == ("unsubscribed", True)


# SendGrid


def test_sendgrid_with_a_good_ecdsa_signature_is_acted_on_and_a_forged_one_refused(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["gone@example.com", "angry@example.com"])
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    site = _site(settings, engine, now, sendgrid_public_key=base64.b64encode(public).decode())
    body = _fill(
        "sendgrid_events.json",
        address="gone@example.com",
        message_id=message_id(issue, ids["gone@example.com"]),
        other="angry@example.com",
        other_message_id=message_id(issue, ids["angry@example.com"]),
    ).encode()
    timestamp = str(int(now.timestamp()))

    def signed(by: ec.EllipticCurvePrivateKey, content: bytes) -> dict[str, str]:
        signature = by.sign(timestamp.encode() + content, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        }

    impostor = ec.generate_private_key(ec.SECP256R1())
    forged = site.client.post("/webhooks/sendgrid", content=body, headers=signed(impostor, body))
    assert forged.status_code == 403
    tampered = site.client.post(
        "/webhooks/sendgrid", content=body.replace(b"angry", b"other"), headers=signed(key, body)
    )
    assert tampered.status_code == 403
    assert site.client.post("/webhooks/sendgrid", content=body).status_code == 403
    good = site.client.post("/webhooks/sendgrid", content=body, headers=signed(key, body))
    assert good.status_code == 200 and good.json() == {"processed": 2}  # "processed" is quiet
    assert delivery_status(engine, issue, "gone@example.com") == "bounced"
    assert delivery_status(engine, issue, "angry@example.com") == "complained"
    again = site.client.post("/webhooks/sendgrid", content=body, headers=signed(key, body))
    assert again.status_code == 406  # a replay within the window is refused
    assert subscriber_status(engine, "angry@example.com") == ("unsubscribed", True)


def test_fixture_bodies_are_valid_json() -> None:
    for path in Path(CORPUS).glob("*.json"):
        json.loads(path.read_text())


def test_the_operator_page_shows_bounce_rates_with_a_warning_and_kept_mail(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["gone@example.com", "fine@example.com"])
    web = settings.web.model_copy(update={"operator_password": SecretStr("op-pass-123")})
    site = _site(
        settings.model_copy(update={"web": web}),
        engine,
        now,
        postmark_username="pm",
        postmark_password="s3cret-pass",
    )
    body = _fill(
        "postmark_bounce.json",
        address="gone@example.com",
        provider_id=relay_id(issue, ids["gone@example.com"]),
    )
    site.client.post("/webhooks/postmark", content=body, auth=("pm", "s3cret-pass"))
    unknown = body.replace('"HardBounce"', '"Unsubscribe"').replace("Bounce", "Mystery")
    site.client.post("/webhooks/postmark", content=unknown, auth=("pm", "s3cret-pass"))
    page = site.client.get("/operator", auth=("operator", "op-pass-123"))
    assert page.status_code == 200
    assert "Returned mail, last 30 days" in page.text
    assert "50.00 %" in page.text and "Warning:" in page.text and "bounce rate 50.00%" in page.text
    assert "Inbound mail kept for you" in page.text and "Postmark Mystery" in page.text


# Replays: each signed post is accepted once (issue 22, item 11)


def test_a_captured_mailgun_signature_replayed_with_a_failed_event_is_refused(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["gone@example.com"])
    site = _site(settings, engine, now, mailgun_signing_key=MAILGUN_KEY)
    mid = message_id(issue, ids["gone@example.com"]).strip("<>")
    # a harmless "delivered" event, signed by Mailgun: its timestamp, token and signature are
    # all an eavesdropper needs, since the signature does not cover the event
    delivered = json.loads(
        _mailgun(
            "mailgun_failed.json",
            now,
            MAILGUN_KEY,
            address="gone@example.com",
            message_id=mid,
            verp="digest@digest.example.org",
        )
    )
    delivered["event-data"] |= {"event": "delivered", "severity": ""}
    first = site.client.post("/webhooks/mailgun", content=json.dumps(delivered))
    assert first.status_code == 200 and first.json() == {"processed": 0}

    replayed = json.loads(json.dumps(delivered))
    replayed["event-data"] |= {"event": "failed", "severity": "permanent"}
    again = site.client.post("/webhooks/mailgun", content=json.dumps(replayed))
    assert again.status_code == 406 and "replayed" in again.text
    assert subscriber_status(engine, "gone@example.com") == ("active", False)
    assert delivery_status(engine, issue, "gone@example.com") == "sent"
    same = site.client.post("/webhooks/mailgun", content=json.dumps(delivered))
    assert same.status_code == 406  # the very same post twice: refused too


def test_mailgun_tokens_are_forgotten_once_their_timestamp_window_has_passed(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    sent_digest(engine, now, ["gone@example.com"])
    clock = Clock(now)
    section = type(settings.inbound)(
        **(settings.inbound.model_dump() | {"mailgun_signing_key": MAILGUN_KEY})
    )
    site = Site(settings.model_copy(update={"inbound": section}), engine, clock)
    for minutes in (0, 40):  # the window is 900 s; a nonce is kept for twice that
        clock.at = now + timedelta(minutes=minutes)
        body = json.loads(
            _mailgun(
                "mailgun_failed.json",
                clock.at,
                MAILGUN_KEY,
                address="nobody@example.com",
                message_id="x@example.org",
                verp="digest@digest.example.org",
            )
        )
        body["signature"]["token"] = f"token-{minutes}"
        ts = body["signature"]["timestamp"]
        body["signature"]["signature"] = hmac.new(
            MAILGUN_KEY.encode(), (ts + f"token-{minutes}").encode(), hashlib.sha256
        ).hexdigest()
        assert site.client.post("/webhooks/mailgun", content=json.dumps(body)).status_code == 200
    with engine.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM webhook_nonces")).scalar_one()
    assert left == 1  # the first token went when the second post came, 40 minutes later


def test_an_sns_certificate_on_an_s3_host_is_refused(
    engine: Engine,
    settings: Settings,
    now: datetime,
    sns_key: tuple[rsa.RSAPrivateKey, bytes],
    certificate_server: str,
) -> None:
    issue, ids = sent_digest(engine, now, ["gone@example.com"])
    site = _site(settings, engine, now, ses_topic_arns=[TOPIC])
    fetcher = LocalCertificates(certificate_server)
    site.client.app.state.sns_certificates = fetcher  # type: ignore[attr-defined]
    bounce = _sns(
        "ses_bounce.json",
        sns_key[0],
        address="gone@example.com",
        message_id=message_id(issue, ids["gone@example.com"]),
    )
    for host in ("sns.s3.amazonaws.com", "sns.s3.amazonaws.com.cn", "sns.eu.amazonaws.com"):
        on_s3 = bounce | {"SigningCertURL": f"https://{host}/SimpleNotificationService-x.pem"}
        response = site.client.post("/webhooks/ses", content=json.dumps(on_s3))
        assert response.status_code == 403 and "SNS certificate URL" in response.text, host
    not_pem = bounce | {"SigningCertURL": "https://sns.eu-west-1.amazonaws.com/cert.txt"}
    assert site.client.post("/webhooks/ses", content=json.dumps(not_pem)).status_code == 403
    assert fetcher.asked == []
    assert subscriber_status(engine, "gone@example.com") == ("active", False)
    china = bounce | {
        "SigningCertURL": "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem"
    }
    assert site.client.post("/webhooks/ses", content=json.dumps(china)).status_code == 200
    assert subscriber_status(engine, "gone@example.com") == ("bounced", True)


def test_ses_and_postmark_posts_are_accepted_once(
    engine: Engine,
    settings: Settings,
    now: datetime,
    sns_key: tuple[rsa.RSAPrivateKey, bytes],
    certificate_server: str,
) -> None:
    issue, ids = sent_digest(engine, now, ["gone@example.com", "angry@example.com"])
    site = _site(
        settings,
        engine,
        now,
        ses_topic_arns=[TOPIC],
        postmark_username="pm",
        postmark_password="s3cret-pass",
    )
    site.client.app.state.sns_certificates = LocalCertificates(certificate_server)  # type: ignore[attr-defined]
    bounce = json.dumps(
        _sns(
            "ses_bounce.json",
            sns_key[0],
            address="gone@example.com",
            message_id=message_id(issue, ids["gone@example.com"]),
        )
    )
    assert site.client.post("/webhooks/ses", content=bounce).status_code == 200
    assert site.client.post("/webhooks/ses", content=bounce).status_code == 406
    spam = _fill(
        "postmark_spam.json",
        address="angry@example.com",
        provider_id=relay_id(issue, ids["angry@example.com"]),
    )
    auth = ("pm", "s3cret-pass")
    assert site.client.post("/webhooks/postmark", content=spam, auth=auth).status_code == 200
    assert site.client.post("/webhooks/postmark", content=spam, auth=auth).status_code == 406
    assert subscriber_status(engine, "angry@example.com") == ("unsubscribed", True)


# Only what is provably ours acts (issue 22, item 1, for providers)


def test_provider_reports_that_name_only_an_address_are_kept(
    engine: Engine, settings: Settings, now: datetime
) -> None:
    issue, ids = sent_digest(engine, now, ["victim@example.com"])
    site = _site(
        settings,
        engine,
        now,
        mailgun_signing_key=MAILGUN_KEY,
        postmark_username="pm",
        postmark_password="s3cret-pass",
    )
    # the Message-ID as it was made before it was keyed: anyone could compute it
    unkeyed = hashlib.sha256(f"digest:{issue}:{ids['victim@example.com']}".encode()).hexdigest()
    guessed = f"<{unkeyed[:32]}@example.org>"
    failed = _mailgun(
        "mailgun_failed.json",
        now,
        MAILGUN_KEY,
        address="victim@example.com",
        message_id=guessed.strip("<>"),
        verp="digest@digest.example.org",
    )
    assert site.client.post("/webhooks/mailgun", content=failed).status_code == 200
    postmark = _fill(
        "postmark_bounce.json",
        address="victim@example.com",
        provider_id="883953f4-6105-42a2-a16a-77a8eac79483",  # not what the relay answered
    )
    auth = ("pm", "s3cret-pass")
    assert site.client.post("/webhooks/postmark", content=postmark, auth=auth).status_code == 200
    assert subscriber_status(engine, "victim@example.com") == ("active", False)
    assert delivery_status(engine, issue, "victim@example.com") == "sent"
    with engine.connect() as connection:
        kept = inbound_store.kept(connection)
    assert len(kept) == 2 and all("not acted on" in k.detail for k in kept)
