"""Start-up checks for `digest run`: is the SMTP relay there at all? (The database is checked by
the CLI runtime.) Failures are one-line DigestErrors, so the CLI exits with their code."""

from __future__ import annotations

import aiosmtplib

from digest.sending.transports import AuthenticationFailed, RelayUnavailable
from digest.sending.transports.smtp import make_client
from papercore.config import SmtpSettings


async def check_relay(smtp: SmtpSettings) -> None:
    """Connect (TLS and AUTH as configured), say hello and quit; raise RelayUnavailable or
    AuthenticationFailed (both DeliveryError, exit code 7) when that fails."""
    client = make_client(smtp, timeout=min(smtp.timeout, 10.0))
    where = f"{smtp.host}:{smtp.port}"
    try:
        await client.connect()
        await client.quit()
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise AuthenticationFailed(
            f"the SMTP relay {where} refused the login: {exc.code} {exc.message}"
        ) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise RelayUnavailable(f"the SMTP relay {where} is unreachable: {exc}") from exc
    finally:
        client.close()
