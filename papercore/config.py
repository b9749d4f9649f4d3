"""Configuration: built-in defaults < TOML file < environment (``DIGEST_<SECTION>__<KEY>``).

The file is ``--config PATH``, else ``$DIGEST_CONFIG``, else ``./config.toml`` when it exists,
else none. Every key is documented in ``config.example.toml``.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from papercore.errors import ConfigError

EXAMPLE_SECRET = "change-me-to-a-long-random-string"
ENV_PREFIX = "DIGEST_"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppSettings(Section):
    name: str = "paper-digest"
    data_dir: Path = Path("./data")
    base_url: str = "http://127.0.0.1:8000"
    lang: str = "en"


class DatabaseSettings(Section):
    url: str = ""  # empty: sqlite file under app.data_dir
    echo: bool = False


class SmtpSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str = ""
    password: SecretStr = SecretStr("")
    timeout: float = Field(default=30.0, gt=0)
    pool_size: int = Field(default=4, ge=1, le=256)
    validate_certs: bool = True


class SenderSettings(Section):
    from_name: str = "Paper Digest"
    from_address: str = "digest@example.org"
    reply_to: str = ""
    operator_name: str = "Paper Digest operators"
    postal_address: str = "1 Example Street, 00000 Example City"
    list_id: str = "paper-digest.example.org"
    feedback_id_sender: str = "paperdigest"
    unsubscribe_mailto: str = "unsubscribe@example.org"
    # VERP: "bounces@example.org" makes each MAIL FROM bounces+<signed delivery token>@example.org
    verp_address: str = ""


class SendingSettings(Section):
    rate_per_second: float = Field(default=0.0, ge=0)  # 0 = unlimited
    per_domain_connections: int = Field(default=3, ge=1)
    max_attempts: int = Field(default=5, ge=1)
    backoff_base_seconds: float = Field(default=30.0, ge=0)
    backoff_max_seconds: float = Field(default=3600.0, ge=0)
    error_rate_threshold: float = Field(default=0.2, gt=0, le=1)
    error_rate_window: int = Field(default=200, ge=10)
    resend_unknown: bool = False
    processes: int | Literal["auto"] = "auto"  # "auto": one per core, capped by subscribers
    retry_wait_seconds: float = Field(default=600.0, ge=0)

    @field_validator("processes", mode="before")
    @classmethod
    def _processes(cls, value: Any) -> Any:
        # One clear line instead of one error per member of the union.
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        text = str(value).strip()
        if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
            raise ValueError(f'must be "auto" or a whole number of processes >= 1, not {value!r}')
        return int(text)


def _empty_is_none(value: Any) -> Any:
    return None if value == "" else value


class DkimSettings(Section):
    enabled: bool = False
    key_path: Path | None = None
    selector: str = ""
    domain: str = ""

    _key_path = field_validator("key_path", mode="before")(_empty_is_none)


class RankingSettings(Section):
    semantic: Literal["auto", "on", "off"] = "auto"
    picks: int = Field(default=10, ge=1, le=100)
    relevance_weight: float = 1.0
    upvotes_weight: float = 0.15
    comments_weight: float = 0.05
    recency_weight: float = 0.1
    recency_half_life_days: float = Field(default=7.0, gt=0)
    relevance_floor: float = Field(default=0.1, ge=0)
    diversity: float = Field(default=0.3, ge=0, le=1)
    example_half_life_days: float = Field(default=60.0, gt=0)
    examples_max: int = Field(default=200, ge=1, le=5000)  # per subscriber; the oldest go first
    seed_list_max: int = Field(default=50, ge=1, le=500)  # papers read from one list (a request)


class TemplatesSettings(Section):
    dir: Path | None = None  # None: the templates shipped with the package

    _dir = field_validator("dir", mode="before")(_empty_is_none)
    html_budget_bytes: int = Field(default=90_000, ge=10_000)


class WebSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: SecretStr = SecretStr(EXAMPLE_SECRET)
    operator_password: SecretStr = SecretStr("")
    confirm_token_days: int = Field(default=7, ge=1)
    signup_min_seconds: float = Field(default=3.0, ge=0)
    signup_per_ip_per_hour: int = Field(default=20, ge=1)
    signup_per_address_per_day: int = Field(default=3, ge=1)
    # issue 15 (errors and security): proxies, operator login throttle, token and outbox limits
    trusted_proxies: list[str] = Field(default_factory=list)  # X-Forwarded-For only from these
    # issue 22: per-address backoff, never a lockout of the right password from a fresh address
    operator_free_failures: int = Field(
        default=5,
        ge=1,
        validation_alias=AliasChoices(
            "operator_free_failures",
            "operator_failures_per_ip_per_hour",  # its old name
        ),
    )
    operator_backoff_seconds: float = Field(default=1.0, gt=0)  # doubles after each failure
    operator_backoff_max_seconds: float = Field(default=900.0, gt=0)
    operator_failures_per_hour: int = Field(default=100, ge=1)  # all addresses: "under attack"
    preferences_token_days: int = Field(default=30, ge=1)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_retry_seconds: float = Field(default=60.0, gt=0)  # doubles after each failure
    # issue 15 (flow and design): the privacy notice the signup form links to
    privacy_url: str = ""  # empty: the built-in /privacy page


class ScheduleSettings(Section):
    collect_cron: str = "0 */3 * * *"
    deliver_every_minutes: int = Field(default=5, ge=1)
    deliver_every_seconds: int = Field(default=0, ge=0)  # > 0 overrides the minutes (tests)
    misfire_grace_hours: int = Field(default=6, ge=1)
    skip_empty: bool = True
    default_hour: int = Field(default=8, ge=0, le=23)
    default_timezone: str = "UTC"


class SourcesSettings(Section):
    pages: list[str] = Field(default_factory=list)
    hf_daily: bool = False
    hf_daily_url: str = "https://huggingface.co/api/daily_papers"
    arxiv_queries: list[str] = Field(default_factory=list)
    arxiv_url: str = "http://export.arxiv.org/api/query"
    timeout: float = Field(default=20.0, gt=0)
    retries: int = Field(default=3, ge=0)
    max_bytes: int = Field(default=20_000_000, ge=1000)


class QueueSettings(Section):
    backend: Literal["inline", "procrastinate"] = "inline"
    batch_size: int = Field(default=500, ge=1)
    concurrency: int = Field(default=1, ge=1, le=64)  # batches one `digest worker` runs at once
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    stalled_after_seconds: float = Field(default=30.0, gt=0)  # then a worker's batches go back
    max_attempts: int = Field(default=5, ge=1)  # runs of one batch before it is marked failed
    keep_finished_days: float = Field(default=14.0, gt=0)  # then finished batch jobs are deleted


class InboundSettings(Section):
    """Bounces, complaints and mailed unsubscribes coming back (``digest inbound``, webhooks)."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=2525, ge=1, le=65535)
    imap_url: SecretStr = SecretStr("")  # imaps://user:password@host:993/INBOX; empty: no poller
    imap_processed_folder: str = "Processed"
    imap_idle: bool = True  # wait with IMAP IDLE when the server offers it, else poll
    imap_poll_seconds: float = Field(default=60.0, gt=0)
    soft_bounce_limit: int = Field(default=3, ge=1)  # soft bounces within soft_bounce_days ...
    soft_bounce_days: int = Field(default=14, ge=1)  # ... suppress the address
    keep_bytes: int = Field(default=65_536, ge=1000)  # the head of a message kept for review
    kept_max: int = Field(default=10_000, ge=100)  # kept messages; the oldest beyond are deleted
    ses_topic_arns: list[str] = Field(default_factory=list)  # empty: /webhooks/ses is off
    postmark_username: str = ""
    postmark_password: SecretStr = SecretStr("")  # empty: /webhooks/postmark is off
    mailgun_signing_key: SecretStr = SecretStr("")  # empty: /webhooks/mailgun is off
    sendgrid_public_key: str = ""  # base64 DER ECDSA key; empty: /webhooks/sendgrid is off
    webhook_max_age_seconds: int = Field(default=900, ge=30)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    app: AppSettings = Field(default_factory=AppSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    sender: SenderSettings = Field(default_factory=SenderSettings)
    sending: SendingSettings = Field(default_factory=SendingSettings)
    dkim: DkimSettings = Field(default_factory=DkimSettings)
    ranking: RankingSettings = Field(default_factory=RankingSettings)
    templates: TemplatesSettings = Field(default_factory=TemplatesSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    inbound: InboundSettings = Field(default_factory=InboundSettings)

    @field_validator("app")
    @classmethod
    def _base_url_is_http(cls, value: AppSettings) -> AppSettings:
        if not value.base_url.startswith(("http://", "https://")):
            raise ValueError("app.base_url must start with http:// or https://")
        value.base_url = value.base_url.rstrip("/")
        return value

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, else a SQLite file under the data directory."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.app.data_dir / 'digest.sqlite3').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls))


# Names reserved for documentation and testing (RFC 2606, RFC 6761): mail "from" them is fake.
_EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
_RESERVED_TLDS = ("example", "test", "invalid", "localhost")
_LOOPBACK_HOSTS = ("localhost", "0.0.0.0", "::1", "[::1]")


def _is_example_domain(address: str) -> bool:
    domain = address.rsplit("@", 1)[-1].strip().rstrip(".").lower()
    return any(domain == d or domain.endswith("." + d) for d in _EXAMPLE_DOMAINS) or (
        domain.rsplit(".", 1)[-1] in _RESERVED_TLDS
    )


def _is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    return host in _LOOPBACK_HOSTS or host.startswith("127.") or host.endswith(".localhost")


def mail_safety_problems(settings: Settings) -> list[str]:
    """One line per setting that makes real mail unsafe or fake: the example secret (anyone
    can forge links), an ``app.base_url`` that is not public https, an example sender domain.
    Empty when the settings are fit to mail real people."""
    problems = []
    if settings.web.secret_key.get_secret_value() == EXAMPLE_SECRET:
        problems.append(
            "web.secret_key is the example value: anyone could forge unsubscribe and "
            "preference links; set DIGEST_WEB__SECRET_KEY to a long random string"
        )
    base_url = settings.app.base_url
    if not base_url.startswith("https://"):
        problems.append(f"app.base_url {base_url} is not https: links in mail must be https")
    if _is_loopback(base_url):
        problems.append(
            f"app.base_url {base_url} is a loopback address: readers cannot open its links"
        )
    for key, address in (
        ("sender.from_address", settings.sender.from_address),
        ("sender.unsubscribe_mailto", settings.sender.unsubscribe_mailto),
    ):
        if address and _is_example_domain(address):
            problems.append(f"{key} {address} is an example domain: use your own")
    return problems


def require_safe_mail(settings: Settings, *, dev: bool, command: str) -> None:
    """Raise ConfigError (one line per problem) unless the settings are fit to send real
    mail or ``dev`` says this is a developer's own machine. Every command that sends mail to
    real addresses (send, run, worker, serve's notices) calls this before it starts."""
    if dev:
        return
    problems = mail_safety_problems(settings)
    if problems:
        hint = f"{command}: refusing to send real mail; fix the above or pass --dev (local testing)"
        raise ConfigError([*problems, hint])


_file_data: ContextVar[dict[str, Any] | None] = ContextVar("digest_config_file_data", default=None)


class _FileSource(PydanticBaseSettingsSource):
    """The parsed TOML file, below the environment in precedence."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return (_file_data.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_file_data.get() or {})


def config_path(explicit: Path | None) -> Path | None:
    """Which file to read: explicit, else $DIGEST_CONFIG, else ./config.toml if present."""
    if explicit is not None:
        return explicit
    env = os.environ.get("DIGEST_CONFIG")
    if env:
        return Path(env)
    local = Path("config.toml")
    return local if local.is_file() else None


def load_settings(explicit: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate the configuration; raises ConfigError with one line per problem."""
    path = config_path(explicit)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError([f"{path}: config file not found"]) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{path}: cannot read config file ({exc})"]) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{path}: invalid TOML: {exc}"]) from exc
    token = _file_data.set(data)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, data)) from exc
    finally:
        _file_data.reset(token)


def _describe(exc: ValidationError, path: Path | None, data: dict[str, Any]) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        key = ".".join(loc)
        env_name = ENV_PREFIX + "__".join(part.upper() for part in loc)
        if env_name in {k.upper() for k in os.environ}:
            where = f"environment {env_name}"
        elif path is not None and _in_file(data, loc):
            where = str(path)
        else:
            where = str(path) if path is not None else "configuration"
        why = error["msg"]
        if error["type"] == "extra_forbidden":
            why = "unknown key"
        problems.append(f"{where}: {key}: {why}")
    return problems


def _in_file(data: dict[str, Any], loc: list[str]) -> bool:
    node: Any = data
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
