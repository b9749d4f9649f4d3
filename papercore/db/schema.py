"""The database schema, in one place (SQLAlchemy Core). Alembic migrations mirror it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# A BIGINT primary key that is still SQLite's auto-incrementing ROWID.
BigId = BigInteger().with_variant(Integer(), "sqlite")

papers = Table(
    "papers",
    metadata,
    Column("id", String(64), primary_key=True),  # arXiv id, else "t:" + hash of the title key
    Column("title_key", String(64), nullable=False, unique=True),  # sha1 of the normalised title
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False, default=""),
    Column("ai_summary", Text),
    Column("authors", JSON, nullable=False, default=list),
    Column("author_count", Integer),
    Column("published", Date),
    Column("posted_at", DateTime(timezone=True)),  # when it appeared on a daily-papers listing
    Column("upvotes", Integer),
    Column("comments", Integer),
    Column("code_url", Text),
    Column("page_url", Text),
    Column("project_url", Text),
    Column("thumbnail_url", Text),
    Column("sources", JSON, nullable=False, default=list),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("embedding", LargeBinary),  # cached sentence embedding (float32), [semantic] ranker
)
Index("ix_papers_first_seen", papers.c.first_seen)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    # pending (awaiting opt-in) | active | paused | unsubscribed | bounced
    Column("status", String(16), nullable=False, default="pending"),
    Column("frequency", String(8), nullable=False, default="daily"),  # daily | weekly
    Column("weekday", Integer, nullable=False, default=0),  # 0 = Monday, for weekly
    Column("hour", Integer, nullable=False, default=8),  # local delivery hour
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("token_version", Integer, nullable=False, default=1),  # bump to revoke tokens
    Column("feed_version", Integer, nullable=False, default=1, server_default="1"),  # feed URL
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_digest_at", DateTime(timezone=True)),
    # ids are in every proof (signed links, VERP, Message-IDs): SQLite must never reuse one
    sqlite_autoincrement=True,
)
Index("ix_subscribers_status", subscribers.c.status)

interests = Table(
    "interests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        BigId,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String(8), nullable=False),  # topic | author | mute
    Column("phrase", Text, nullable=False),
    Column("weight", Float, nullable=False, default=1.0),
    UniqueConstraint("subscriber_id", "kind", "phrase"),
)
Index("ix_interests_subscriber_id", interests.c.subscriber_id)

issues = Table(
    "issues",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),  # the issue number
    Column("issue_date", Date, nullable=False),
    Column("frequency", String(8), nullable=False, default="daily"),
    # open | sending | paused | done
    Column("status", String(16), nullable=False, default="open"),
    Column("pause_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    UniqueConstraint("issue_date", "frequency"),
    sqlite_autoincrement=True,  # the issue id is in VERP tokens, Message-IDs and links
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("issue_id", BigId, ForeignKey("issues.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscriber_id",
        BigId,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # pending | sending | sent | deferred | failed | skipped | unknown
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_reply", Text),
    Column("message_id", String(255)),
    Column("paper_ids", JSON, nullable=False, default=list),
    Column("why", JSON),  # each paper's explanation lines, parallel to paper_ids
    Column("size_bytes", Integer),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("issue_id", "subscriber_id"),
)
Index("ix_deliveries_issue_id_status", deliveries.c.issue_id, deliveries.c.status)
Index("ix_deliveries_subscriber_id", deliveries.c.subscriber_id)

# Memory of what each subscriber already received: never send a paper twice.
delivered_papers = Table(
    "delivered_papers",
    metadata,
    Column(
        "subscriber_id",
        BigId,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("paper_id", String(64), primary_key=True),
    Column("issue_id", BigId, ForeignKey("issues.id", ondelete="CASCADE")),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("email_hash", String(64), nullable=False, unique=True),  # sha256 of normalised address
    Column(
        "reason", String(32), nullable=False
    ),  # bounce | unsubscribe | forget | complaint | manual
    Column("detail", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

subscriber_events = Table(
    "subscriber_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        BigId,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
    ),
    # signup | confirm | consent | import | preferences | feedback | unsubscribe | bounce | ...
    Column("kind", String(32), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("ip", String(64)),
    Column("user_agent", Text),
    Column("detail", JSON, nullable=False, default=dict),
    Column("consent_text", Text),
    Column("is_consent", Boolean, nullable=False, default=False),
)
Index("ix_subscriber_events_subscriber_id", subscriber_events.c.subscriber_id)

# Each signup's request, keyed by the nonce its confirmation link carries
# (subscribers/submissions.py): confirming applies the submission the link was mailed for, so a
# later signup with the same pending address cannot change what an earlier link confirms.
signup_submissions = Table(
    "signup_submissions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        BigId,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("nonce", String(32), nullable=False, unique=True),
    Column("topics", JSON, nullable=False, default=list),
    Column("frequency", String(8), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("hour", Integer, nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("seeds", JSON),  # the papers they listed, liked once they confirm
    Column("stopped_by", String(32)),  # why mail had stopped: unsubscribed | bounced | complaint
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_at", DateTime(timezone=True)),
    sqlite_autoincrement=True,
)
Index("ix_signup_submissions_subscriber_id", signup_submissions.c.subscriber_id)

# The scheduler's own record of its jobs' last runs (`digest status`); APScheduler keeps the next.
job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(32), primary_key=True),  # collect | deliver
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("outcome", String(16), nullable=False),  # running | ok | failed
    Column("detail", JSON, nullable=False, default=dict),
    Column("runs", Integer, nullable=False, default=0),
)

# The global send rate shared by `digest worker` processes (digest/queue/pacing.py): the
# theoretical arrival time of the next message (GCRA).
pacing_state = Table(
    "pacing_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("tat", DateTime(timezone=True), nullable=False),
)

# Web signup rate limits (digest/web/ratelimit.py), shared by every web process: one row per
# counted hit, the key (an IP address or an email address) stored only as a keyed hash.
rate_limit_hits = Table(
    "rate_limit_hits",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("scope", String(32), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("at", Float, nullable=False),  # seconds since the epoch
    Index(None, "scope", "key_hash", "at"),
    Index(None, "scope", "at"),
)

# Mail and webhook events that came back (digest/inbound/store.py): bounces, complaints, mailed
# unsubscribes, and whatever nobody could classify, kept with its text for the operator. Soft
# bounces are counted per address (hash) from here; ``event_key`` makes a replay a no-op.
inbound_events = Table(
    "inbound_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_key", String(64), nullable=False, unique=True),  # sha256 of message or event
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("via", String(16), nullable=False),  # smtp | lmtp | imap | ses | postmark | mailgun | ..
    # hard_bounce | soft_bounce | complaint | unsubscribe | auto_reply | unknown
    Column("kind", String(16), nullable=False),
    # suppressed | counted | unsubscribed | ignored | kept | resolved
    Column("action", String(16), nullable=False),
    Column("email_hash", String(64)),
    Column("issue_id", BigInteger),
    Column("subscriber_id", BigInteger),
    Column("detail", Text, nullable=False, default=""),
    Column("raw", Text),  # only for messages kept for the operator (the head of the message)
    # kept messages: sha256 of kind, sender and detail, and of the sender; repeats within a day
    # count up on one row instead of adding rows (digest/inbound/process.py)
    Column("fingerprint", String(64)),
    Column("sender_key", String(64)),
    Column("repeats", Integer, nullable=False, default=1, server_default="1"),
    Index(None, "email_hash", "kind", "received_at"),
    Index(None, "action", "received_at"),
    Index(None, "fingerprint"),
    Index(None, "sender_key", "received_at"),
    sqlite_autoincrement=True,  # `digest inbound --resolve <id>` never names a later message
)

# Webhook posts already accepted, by the provider's single-use value (Mailgun's token, SendGrid's
# signature, SNS's MessageId, a hash of Postmark's body): a replay is refused by the database.
webhook_nonces = Table(
    "webhook_nonces",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("provider", String(16), nullable=False),
    Column("nonce", String(128), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("provider", "nonce"),
    Index(None, "received_at"),
)

# "More / less like this" (subscribers/feedback.py): one vote per subscriber and paper, the latest
# click; the ranker learns from these. Follows the paper when an arXiv id replaces its title hash.
feedback_examples = Table(
    "feedback_examples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        BigId,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "paper_id",
        String(64),
        ForeignKey("papers.id", ondelete="CASCADE", onupdate="CASCADE"),
        nullable=False,
    ),
    Column("vote", Integer, nullable=False),  # +1 more like this, -1 less like this
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("subscriber_id", "paper_id"),
)
Index("ix_feedback_examples_paper_id", feedback_examples.c.paper_id)

# Seeds that match no stored paper (subscribers/seeding.py): a subscriber's own "more like this"
# examples with the text their list gave. Never in ``papers``: only sources write that table.
private_examples = Table(
    "private_examples",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        BigId,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("title_key", String(64), nullable=False),  # sha256 of the normalised title
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False, default=""),
    Column("authors", JSON, nullable=False, default=list),
    Column("arxiv", String(32)),  # the arXiv id the list named, if any
    Column("vote", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("embedding", LargeBinary),  # cached sentence embedding, as papers.embedding
    UniqueConstraint("subscriber_id", "title_key"),
    sqlite_autoincrement=True,  # a row id (the example id seed:<n>) is never reused
)


# Notice mails (confirm, welcome, change of address, goodbye) waiting for the relay
# (digest/sending/outbox.py): written when the page's change is saved, so a crash loses none.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: the notice's links and facts
    Column("status", String(16), nullable=False),  # pending, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index(None, "status", "next_attempt_at"),
)
