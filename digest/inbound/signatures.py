"""Checking that a webhook post really comes from the provider (pure: no network, explicit now).

- Amazon SNS (SES notifications): an RSA signature (SHA1 for SignatureVersion 1, SHA256 for 2)
  over the message's canonical string, with the certificate at ``SigningCertURL``, which must be
  an https URL of a .pem file on an SNS host (``sns.<region>.amazonaws.com[.cn]`` with a
  region-shaped label, so that S3 hosts such as ``sns.s3-us-west-2.amazonaws.com`` are
  refused); the caller fetches it; the certificate must be valid now and issued for that host.
- Postmark: HTTP basic auth with the configured user and password.
- Mailgun: HMAC-SHA256 of ``timestamp + token`` with the webhook signing key.
- SendGrid: ECDSA P-256 / SHA-256 of ``timestamp + body`` with the verification key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from papercore.errors import InputError

# SNS hosts are sns.<region>.amazonaws.com[.cn], and a region is shaped like us-east-1,
# us-gov-west-1, cn-north-1 or il-central-1. The AWS SDKs' looser pattern (any 3 or more
# characters) also admits S3 bucket hosts such as sns.s3-us-west-2.amazonaws.com or
# sns.s3-accelerate.amazonaws.com, whose content anyone with a bucket writes.
_SNS_HOST = re.compile(r"^sns\.[a-z]{2}(-[a-z]+)+-[0-9]{1,2}\.amazonaws\.com(\.cn)?$", re.ASCII)
# The name SNS signing certificates have long been issued for, whatever the region
_SNS_GLOBAL_NAMES = ("sns.amazonaws.com", "sns.amazonaws.com.cn")
_SNS_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
    "UnsubscribeConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}


class WebhookRefused(InputError):
    """A webhook post that is unsigned, wrongly signed, stale or not for us."""


def check_sns_certificate_url(url: str) -> str:
    """``url`` when it is an https URL of a .pem file on an SNS domain; refused otherwise."""
    refused = WebhookRefused(f"SigningCertURL {url[:120]!r} is not an SNS certificate URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port out of range or not a number, a bad IPv6 literal
        raise refused from exc
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not _SNS_HOST.fullmatch(host) or not parts.path.endswith(".pem"):
        raise refused
    if parts.username or parts.password or port not in (None, 443):
        raise refused
    return url


def check_sns_certificate(certificate: x509.Certificate, host: str, now: datetime) -> None:
    """Raise WebhookRefused unless the certificate is valid at ``now`` and issued for the
    SNS host it came from (its subject CN or a DNS SAN; or SNS's global name)."""
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise WebhookRefused("the SNS certificate is expired or not yet valid")
    names = {
        str(a.value).lower()
        for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    }
    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names.update(n.lower() for n in alternative.value.get_values_for_type(x509.DNSName))
    except x509.ExtensionNotFound:
        pass
    if host.lower() not in names and not names.intersection(_SNS_GLOBAL_NAMES):
        raise WebhookRefused(f"the SNS certificate is not issued for {host[:80]}")


def sns_string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The canonical text SNS signs: each present field's name and value on their own lines."""
    kind = str(message.get("Type", ""))
    names = _SNS_FIELDS.get(kind)
    if names is None:
        raise WebhookRefused(f"unknown SNS message type {kind[:40]!r}")
    lines: list[str] = []
    for name in names:
        if name in message and message[name] is not None:
            lines.extend((name, str(message[name])))
    return ("\n".join(lines) + "\n").encode("utf-8")


def verify_sns(
    message: Mapping[str, Any], certificate_pem: bytes, *, url: str, now: datetime
) -> None:
    """Raise WebhookRefused unless the SNS message is signed by the key of the certificate
    fetched from ``url`` (checked with ``check_sns_certificate_url``), valid at ``now`` and
    issued for that host."""
    version = str(message.get("SignatureVersion", ""))
    algorithm: hashes.HashAlgorithm
    if version == "1":
        algorithm = hashes.SHA1()
    elif version == "2":
        algorithm = hashes.SHA256()
    else:
        raise WebhookRefused(f"unsupported SNS SignatureVersion {version[:8]!r}")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        certificate = x509.load_pem_x509_certificate(certificate_pem)
    except (binascii.Error, ValueError) as exc:
        raise WebhookRefused("SNS signature or certificate is malformed") from exc
    check_sns_certificate(certificate, urlsplit(url).hostname or "", now)
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise WebhookRefused("the SNS certificate does not hold an RSA key")
    try:
        key.verify(signature, sns_string_to_sign(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature as exc:
        raise WebhookRefused("SNS signature does not match") from exc


def check_basic_auth(header: str, user: str, password: str) -> None:
    """Raise WebhookRefused unless ``header`` (Authorization) is basic auth for user:password."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not password:
        raise WebhookRefused("basic authentication required")
    try:
        given_user, _, given = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise WebhookRefused("malformed basic authentication") from exc
    same_user = hmac.compare_digest(given_user.encode(), user.encode())
    if not (same_user & hmac.compare_digest(given.encode(), password.encode())):
        raise WebhookRefused("wrong user or password")


def _check_age(timestamp: str, now: datetime, max_age_seconds: int) -> None:
    try:
        moment = int(timestamp)
    except ValueError as exc:
        raise WebhookRefused("malformed webhook timestamp") from exc
    if abs(now.timestamp() - moment) > max_age_seconds:
        raise WebhookRefused("webhook timestamp is too old or in the future (a replay?)")


def verify_mailgun(
    signing_key: str,
    signature: Mapping[str, Any],
    now: datetime,
    max_age_seconds: int,
) -> None:
    """Raise WebhookRefused unless Mailgun's ``signature`` object is valid and fresh."""
    timestamp = str(signature.get("timestamp", ""))
    token = str(signature.get("token", ""))
    given = str(signature.get("signature", ""))
    if not signing_key or not timestamp or not token or not given:
        raise WebhookRefused("Mailgun signature missing")
    expected = hmac.new(
        signing_key.encode(), (timestamp + token).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise WebhookRefused("Mailgun signature does not match")
    _check_age(timestamp, now, max_age_seconds)


def verify_sendgrid(
    public_key_b64: str,
    signature_b64: str,
    timestamp: str,
    body: bytes,
    now: datetime,
    max_age_seconds: int,
) -> None:
    """Raise WebhookRefused unless SendGrid's ECDSA signature over timestamp + body is valid."""
    if not signature_b64 or not timestamp:
        raise WebhookRefused("SendGrid signature headers missing")
    try:
        key = serialization.load_der_public_key(base64.b64decode(public_key_b64, validate=True))
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookRefused("SendGrid signature or key is malformed") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise WebhookRefused("the SendGrid verification key is not an ECDSA key")
    try:
        key.verify(signature, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise WebhookRefused("SendGrid signature does not match") from exc
    _check_age(timestamp, now, max_age_seconds)
