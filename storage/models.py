"""The tables: participants, flow definitions, runs, answers, processed inputs, outbox,
ideas and votes.

Constraint names come from one naming convention so Alembic migrations can refer to
them by stable names on every database. Composite constraints and indexes are named
explicitly, following the same pattern with every column, because the convention only
names them after their first column.

There are no ``relationship()`` attributes on purpose: repositories say which rows they
load, and nothing lazy-loads behind a caller's back. Deleting a participant removes their
runs, answers and queued messages through ``ON DELETE CASCADE`` in the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, MetaData, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import JSONType, UTCDateTime

__all__ = [
    "AdminAction",
    "AgreeVote",
    "Answer",
    "Base",
    "Broadcast",
    "ConsentText",
    "FlowDefinition",
    "FlowEvent",
    "Idea",
    "Invite",
    "Notice",
    "OutboxMessage",
    "PairwiseVote",
    "Participant",
    "ProcessedInput",
    "Run",
    "WhatsAppContent",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - read once by SQLAlchemy at class creation
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


class Participant(Base):
    """A person on one channel. ``pseudonym`` is what exports show; never the address."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("channel", "address", name="uq_participants_channel_address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(255))
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str | None] = mapped_column(String(16))
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent_at: Mapped[datetime | None]
    consent_sha256: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the consent text agreed to, so the exact wording can be proven later."""
    source: Mapped[str | None] = mapped_column(String(64))
    """The invite code or source they first arrived with (a Telegram deep link's payload)."""
    unreachable_at: Mapped[datetime | None]
    """The platform said they can't be reached (blocked the bot): nothing more is sent."""
    unreachable_reason: Mapped[str | None] = mapped_column(String(255))
    stopped_at: Mapped[datetime | None]
    """They asked for no more messages (``/stop``) until they come back (``/start``)."""
    last_inbound_at: Mapped[datetime | None]
    """When they last wrote (kept for WhatsApp: free-form messages only within 24 hours)."""
    erasing_at: Mapped[datetime | None]
    """They confirmed ``/delete``: everything else is gone already; the row (and so the
    address) stays only until the farewell message is sent, then it is deleted too."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FlowDefinition(Base):
    """A flow file's exact text, kept so runs started on it can finish on it."""

    __tablename__ = "flow_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class Run(Base):
    """One pass of a participant through a flow; ``state`` is the engine's RunState JSON.

    ``status`` is ``active``, ``finished``, ``declined`` or ``abandoned``.
    """

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_participant_id_flow_id", "participant_id", "flow_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    flow_id: Mapped[str] = mapped_column(String(100))
    definition_id: Mapped[int] = mapped_column(ForeignKey("flow_definitions.id"))
    status: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]]
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    circle: Mapped[str | None] = mapped_column(String(64))
    """The circle the participant joined this flow in (an invite code's), if any."""
    source: Mapped[str | None] = mapped_column(String(64))
    """The outreach source that brought them to this flow (an invite code's)."""
    consent_at: Mapped[datetime | None]
    """When the participant agreed, in this run, to the consent text ``consent_sha256``
    (its wording is kept in ``consent_texts``)."""
    consent_sha256: Mapped[str | None] = mapped_column(String(64))
    consent_asked: Mapped[str | None] = mapped_column(String(64))
    """The flow's consent text changed after they agreed: the new text's hash, asked and
    not answered yet. Nothing more is taken from them until they answer it."""


class Answer(Base):
    """The current answer to one step in one run; going back deletes it."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("run_id", "step_id", name="uq_answers_run_id_step_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    flow_id: Mapped[str] = mapped_column(String(100))
    step_id: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSONType)
    answered_at: Mapped[datetime]


class ProcessedInput(Base):
    """A platform message already applied: the unique key makes redelivery a no-op.

    ``participant_id`` survives the participant's deletion as NULL, so a late redelivery
    of a deleted person's message still isn't applied (and doesn't recreate them).
    """

    __tablename__ = "processed_inputs"
    __table_args__ = (
        UniqueConstraint("channel", "platform_id", name="uq_processed_inputs_channel_platform_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(255))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    processed_at: Mapped[datetime]


UNSENT_SQL = "status IN ('pending', 'sending')"
"""The rows a sender may still claim; the claim's partial index covers exactly these."""


class OutboxMessage(Base):
    """A channel-neutral message waiting to be sent, written with the state change.

    ``status`` moves ``pending`` -> ``sending`` (claimed) -> ``sent``, or back to
    ``pending`` with a later ``next_attempt_at`` on a retryable failure, or ``failed``
    with ``last_error`` saying why, or ``held``: it may not be sent as it is (WhatsApp's
    24-hour window closed and no template is configured), and ``last_error`` says so,
    or ``unconfirmed``: a broadcast row whose sender stopped during the platform call, so
    it may have arrived and is not sent again. One participant's rows are sent in ``id``
    order.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_status_channel_next_attempt_at", "status", "channel", "next_attempt_at"
        ),
        Index("ix_outbox_participant_id_status", "participant_id", "status"),
        Index("ix_outbox_platform_message_id", "platform_message_id"),
        Index("ix_outbox_unsent_channel_id", "channel", "id",
              sqlite_where=text(UNSENT_SQL), postgresql_where=text(UNSENT_SQL)),
        UniqueConstraint("broadcast_id", "participant_id",
                         name="uq_outbox_broadcast_id_participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(64))
    """The platform's id of the message once sent (Telegram ``message_id``)."""
    keyboard: Mapped[bool] = mapped_column(default=False, server_default=false())
    """It carries buttons: the newest such row of a participant is the one a tap may answer."""
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    """What the platform reported after sending: sent, delivered, read, failed, undelivered."""
    delivery_error: Mapped[str | None] = mapped_column(String(16))
    """The platform's error code with a failed or undelivered report (Twilio's 63016...)."""
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL")
    )
    """The broadcast it belongs to: one row per broadcast and participant, at most."""
    attempted_at: Mapped[datetime | None]
    """A broadcast row's platform call began (written, durably, just before it): such a
    row is never sent again by a sender that finds it unfinished; it becomes
    ``unconfirmed`` (it may or may not have arrived). Messages of a conversation are sent
    again instead: a question repeated is better than one lost."""


class Consent(Base):
    """A consent beyond taking part (``future``: to hear about future processes), kept
    apart from the run's consent so each can be given and withdrawn on its own. Asked and
    unanswered: neither ``granted_at`` nor ``revoked_at``; given: ``granted_at``;
    declined or withdrawn: ``revoked_at`` (the latest answer counts)."""

    __tablename__ = "consents"
    __table_args__ = (
        UniqueConstraint("participant_id", "kind", name="uq_consents_participant_id_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16))
    flow_id: Mapped[str | None] = mapped_column(String(100))
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    asked_at: Mapped[datetime]
    granted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ConsentText(Base):
    """The exact wording of a consent text someone agreed to, by its SHA-256: a run's
    consent names it, so what a participant accepted can be shown word for word later."""

    __tablename__ = "consent_texts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AdminAction(Base):
    """Who did what, when, with admin powers: a command in the chat from an admin's address
    (``actor`` is ``channel:address``) or a command line run (``cli:<os user>``). Kept apart
    from participants' data, and never holding a participant's address."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict[str, Any] | None]


class Notice(Base):
    """A reminder or announcement sent to a participant, kept so it is sent once: the
    unique key is what two schedulers racing for the same reminder agree on."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("participant_id", "kind", "key",
                         name="uq_notices_participant_id_kind_key"),
        Index("ix_notices_flow_id_kind", "flow_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE")
    )
    flow_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class FlowEvent(Base):
    """Something that happens once to a whole flow (a phase opened, its deadline reminder
    went out): the scheduler that inserts the row does the work, in the same transaction."""

    __tablename__ = "flow_events"

    flow_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    done_at: Mapped[datetime]


class Invite(Base):
    """An invite code: a Telegram deep link's payload or a WhatsApp first message. It
    takes whoever uses it into a flow, in a circle, and says which outreach brought them."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(64))
    circle: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Broadcast(Base):
    """A message to many, named by the organiser: running its file again resumes it (its
    recipients are the outbox rows carrying its id). ``digest`` is the SHA-256 of the file
    it was started from, so a changed file is not mistaken for the same broadcast."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    flow_id: Mapped[str] = mapped_column(String(100))
    spec: Mapped[dict[str, Any]]
    """What to send to whom (the file's content, checked), for a scheduler that writes
    the recipients when ``send_at`` comes."""
    start_step: Mapped[str | None] = mapped_column(String(100))
    send_at: Mapped[datetime]
    created_at: Mapped[datetime]
    enqueued_at: Mapped[datetime | None]
    """When its recipients were written to the outbox (in one transaction, with ``total``):
    from then on the audience is fixed."""
    total: Mapped[int | None]


class WhatsAppContent(Base):
    """An interactive message (quick replies, a list) created once with Twilio's Content
    API, found again by the SHA-256 of its definition."""

    __tablename__ = "whatsapp_contents"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    sid: Mapped[str] = mapped_column(String(34))
    created_at: Mapped[datetime]


class Idea(Base):
    """An idea a participant proposed in an ``idea`` step (or an organiser's seed).

    ``status``: ``pending`` (waiting for moderation), ``approved`` (shown in voting),
    ``rejected`` (with a ``reason`` category the author is told), ``hidden`` (flagged too
    often, until reviewed), ``withdrawn`` (by its author before voting), ``merged`` (into a
    similar idea, ``merged_into``). The author link is
    removed if the participant is deleted; the idea and its tallies stay.
    """

    __tablename__ = "ideas"
    __table_args__ = (Index("ix_ideas_flow_id_step_id_status", "flow_id", "step_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(100))
    step_id: Mapped[str] = mapped_column(String(100))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="SET NULL"))
    """``merged``: the idea it was folded into; its votes stay with it, uncounted."""
    flags: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PairwiseVote(Base):
    """One participant's choice between two ideas, stored once per pair.

    The pair is kept in order (``idea_low`` < ``idea_high``), so the unique key covers both
    orders; ``winner_id`` is NULL for "can't decide", a skip that scores nothing. A deleted
    participant's votes stay as anonymous counts (``participant_id`` NULL).
    """

    __tablename__ = "pairwise_votes"
    __table_args__ = (
        UniqueConstraint(
            "participant_id",
            "idea_low",
            "idea_high",
            name="uq_pairwise_votes_participant_id_idea_low_idea_high",
        ),
        Index("ix_pairwise_votes_flow_id", "flow_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(100))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    idea_low: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    idea_high: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    winner_id: Mapped[int | None] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    voted_at: Mapped[datetime]


class AgreeVote(Base):
    """One participant's agree / disagree / pass on one idea (Pol.is style), once per idea."""

    __tablename__ = "agree_votes"
    __table_args__ = (
        UniqueConstraint("participant_id", "idea_id", name="uq_agree_votes_participant_id_idea_id"),
        Index("ix_agree_votes_flow_id", "flow_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(100))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(String(8))
    voted_at: Mapped[datetime]
