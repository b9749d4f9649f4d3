"""Outside tester's webhook findings (issue 22): SNS certificate URLs on S3 bucket hosts, a
certificate not issued for the SNS host or not valid now, and unauthenticated posts that made
the app answer 500 (a SigningCertURL port out of range, deeply nested JSON): each refused with a
4xx, through the web app, changing nobody."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy import Engine

from digest.inbound.signatures import (
    WebhookRefused,
    check_sns_certificate_url,
    sns_string_to_sign,
)
from papercore.config import Settings
from tests.integration.inbound.support import CORPUS, message_id, sent_digest, subscriber_status
from tests.web_site import Clock, Site

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
HOST = "sns.eu-west-1.amazonaws.com"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class PemFetcher:
    """Serves one certificate for any SNS URL, and records what it was asked for."""

    def __init__(self, pem: bytes) -> None:
        self.pem = pem
        self.asked: list[str] = []

    async def fetch(self, url: str) -> bytes:
        self.asked.append(url)
        return self.pem


def _certificate(name: str, start: datetime, days: int, san: str | None = None) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(KEY.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
    )
    if san is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False
        )
    return builder.sign(KEY, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _bounce(engine: Engine, now: datetime, url: str | None = None) -> dict[str, str]:
    issue, ids = sent_digest(engine, now, ["gone@example.com"])
    text = (CORPUS / "ses_bounce.json").read_text()
    text = text.replace("{address}", "gone@example.com").replace(
        "{message_id}", message_id(issue, ids["gone@example.com"])
    )
    message: dict[str, str] = json.loads(text)
    if url is not None:
        message["SigningCertURL"] = url
    algorithm = hashes.SHA1() if message["SignatureVersion"] == "1" else hashes.SHA256()
    signature = KEY.sign(sns_string_to_sign(message), padding.PKCS1v15(), algorithm)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def _site(settings: Settings, engine: Engine, now: datetime, pem: bytes) -> tuple[Site, PemFetcher]:
    inbound = settings.inbound.model_copy(
        update={"ses_topic_arns": [TOPIC], "mailgun_signing_key": SecretStr("key-x")}
    )
    site = Site(settings.model_copy(update={"inbound": inbound}), engine, Clock(now))
    fetcher = PemFetcher(pem)
    site.client.app.state.sns_certificates = fetcher  # type: ignore[attr-defined]
    return site, fetcher


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.s3-us-west-2.amazonaws.com/SimpleNotificationService-x.pem",
        "https://sns.s3-accelerate.amazonaws.com/SimpleNotificationService-x.pem",
        "https://sns.s3-external-1.amazonaws.com/SimpleNotificationService-x.pem",
        # a Unicode digit is a \d but no region (and httpx cannot even parse the host)
        "https://sns.us-east-\u0661.amazonaws.com/SimpleNotificationService-x.pem",
        f"https://{HOST}:99999/SimpleNotificationService-x.pem",
        f"https://{HOST}:abc/SimpleNotificationService-x.pem",
        "https://[::1/SimpleNotificationService-x.pem",
    ],
)
def test_sns_certificate_urls_off_sns_hosts_are_refused_with_403(
    engine: Engine, settings: Settings, now: datetime, url: str
) -> None:
    site, fetcher = _site(settings, engine, now, _certificate(HOST, now - timedelta(days=1), 30))
    response = site.client.post("/webhooks/ses", content=json.dumps(_bounce(engine, now, url)))
    assert response.status_code == 403, response.text
    assert "SNS certificate URL" in response.text
    assert fetcher.asked == []
    assert subscriber_status(engine, "gone@example.com") == ("active", False)


@pytest.mark.parametrize(
    "host",
    [
        "sns.us-east-1.amazonaws.com",
        "sns.us-gov-west-1.amazonaws.com",
        "sns.cn-north-1.amazonaws.com.cn",
        "sns.ap-southeast-2.amazonaws.com",
        "sns.il-central-1.amazonaws.com",
        "sns.eu-central-2.amazonaws.com",
    ],
)
def test_every_region_shaped_sns_host_is_admitted(host: str) -> None:
    url = f"https://{host}/SimpleNotificationService-x.pem"
    assert check_sns_certificate_url(url) == url
    with pytest.raises(WebhookRefused):
        check_sns_certificate_url(url.replace("sns.", "sns.s3-", 1))


@pytest.mark.parametrize(
    ("name", "starts", "days", "why"),
    [
        ("attacker.example", -1, 30, "not issued for"),  # someone else's certificate
        ("sns.us-east-1.amazonaws.com", -1, 30, "not issued for"),  # another region's
        (HOST, -60, 30, "expired"),
        (HOST, 2, 30, "not yet valid"),
    ],
)
def test_an_sns_certificate_for_another_host_or_not_valid_now_is_refused(
    engine: Engine, settings: Settings, now: datetime, name: str, starts: int, days: int, why: str
) -> None:
    pem = _certificate(name, now + timedelta(days=starts), days)
    site, _ = _site(settings, engine, now, pem)
    response = site.client.post("/webhooks/ses", content=json.dumps(_bounce(engine, now)))
    assert response.status_code == 403 and why in response.text, response.text
    assert subscriber_status(engine, "gone@example.com") == ("active", False)


@pytest.mark.parametrize(
    ("name", "san"), [(HOST, None), ("x.example", HOST), ("sns.amazonaws.com", None)]
)
def test_an_sns_certificate_naming_its_host_is_accepted(
    engine: Engine, settings: Settings, now: datetime, name: str, san: str | None
) -> None:
    site, _ = _site(settings, engine, now, _certificate(name, now - timedelta(days=1), 30, san))
    response = site.client.post("/webhooks/ses", content=json.dumps(_bounce(engine, now)))
    assert response.status_code == 200, response.text
    assert subscriber_status(engine, "gone@example.com") == ("bounced", True)


@pytest.mark.parametrize("path", ["mailgun", "ses"])
def test_a_deeply_nested_json_body_is_refused_with_400(
    engine: Engine, settings: Settings, now: datetime, path: str
) -> None:
    site, _ = _site(settings, engine, now, b"")
    body = "[" * 20_000 + "]" * 20_000  # under the size limit, past the parser's depth
    response = site.client.post(f"/webhooks/{path}", content=body)
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text
