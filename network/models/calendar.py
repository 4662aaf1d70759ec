"""The meeting and workshop calendar: events (plenaries, working-group sessions, workshops,
trainings, bilateral consultations, webinars) with their organising networks, recurrence,
agenda, documents per language, organisation of work, invitations, registrations and
attendance, plus each person's calendar settings (office hours, feed secret) and the log
of reminders already sent.

Instants are stored in UTC (``UTCDateTime``); ``Event.timezone`` is the IANA zone in which
the event happens, used to show its local time and to expand its recurrence rule.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.extensions import db
from network.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from network.models.directory import Network
    from network.models.people import User


class EventKind(enum.StrEnum):
    PLENARY = "plenary"
    WORKING_GROUP = "working_group"
    WORKSHOP = "workshop"
    TRAINING = "training"
    BILATERAL_CONSULTATION = "bilateral_consultation"
    WEBINAR = "webinar"


class EventFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    VIRTUAL = "virtual"
    HYBRID = "hybrid"


class EventVisibility(enum.StrEnum):
    MEMBERS = "members"  # members of an organising network (and invited people)
    INVITED = "invited"  # invited people only (and the organisers)
    PUBLIC = "public"  # anyone, signed in or not


class EventStatus(enum.StrEnum):
    DRAFT = "draft"  # being planned: organisers and invited people only
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RsvpStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    TENTATIVE = "tentative"
    DECLINED = "declined"


class AttendanceMode(enum.StrEnum):
    IN_PERSON = "in_person"
    REMOTE = "remote"


event_networks = Table(
    "event_networks",
    db.metadata,
    Column("event_id", ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True),
)

session_agenda_items = Table(
    "event_session_agenda_items",
    db.metadata,
    Column("session_id", ForeignKey("event_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "agenda_item_id", ForeignKey("event_agenda_items.id", ondelete="CASCADE"), primary_key=True
    ),
)


def _new_uid() -> str:
    return f"{uuid.uuid4().hex}@network-calendar"


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The iCalendar UID: set once, never changed, so calendar clients update in place.
    uid: Mapped[str] = mapped_column(String(100), unique=True, default=_new_uid)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    kind: Mapped[str] = mapped_column(String(30))
    format: Mapped[str] = mapped_column(String(20))
    visibility: Mapped[str] = mapped_column(String(20), default=EventVisibility.MEMBERS.value)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.SCHEDULED.value)
    venue: Mapped[str] = mapped_column(String(300), default="", server_default="")
    online_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # RFC 5545 RRULE value ("FREQ=MONTHLY;BYDAY=1TU;COUNT=6"), expanded with dateutil in the
    # event's time zone; exception dates are local dates (ISO strings) left out.
    rrule: Mapped[str] = mapped_column(String(500), default="", server_default="")
    exception_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The end of the last occurrence (== ends_at without recurrence; None = unbounded), so
    # range queries stay in the database.
    recurrence_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The series an event belongs to ("UNTOC working group on international cooperation"):
    # participation statistics are compared across it.
    series: Mapped[str] = mapped_column(String(200), default="", server_default="", index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    registration_open: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_minutes: Mapped[int] = mapped_column(Integer, default=1440, server_default="1440")
    # Hooks to the live consultations and training issues (no foreign key yet).
    consultation_id: Mapped[int | None] = mapped_column(Integer)
    cohort_id: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    networks: Mapped[list[Network]] = relationship(secondary=event_networks, lazy="selectin")
    created_by: Mapped[User | None] = relationship()
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="AgendaItem.position"
    )
    documents: Mapped[list[EventDocument]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventDocument.symbol"
    )
    sessions: Mapped[list[EventSession]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="EventSession.starts_at"
    )
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Registration.id"
    )
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Invitation.id"
    )

    @property
    def exception_days(self) -> list[date]:
        """The exception dates as days, in order (for showing them in the reader's words)."""
        return sorted(date.fromisoformat(day) for day in self.exception_dates or [])

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r} {self.status}>"


class AgendaItem(db.Model):
    """An item of the provisional agenda: "5" or a sub-item "5 (a)" (``parent_id`` set)."""

    __tablename__ = "event_agenda_items"
    __table_args__ = (UniqueConstraint("event_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_agenda_items.id", ondelete="CASCADE")
    )
    number: Mapped[str] = mapped_column(String(20))  # "5" or "5 (a)", as shown
    position: Mapped[int] = mapped_column(Integer, default=0)  # sort key derived from number
    title: Mapped[str] = mapped_column(String(500))
    annotation: Mapped[str] = mapped_column(Text, default="", server_default="")

    event: Mapped[Event] = relationship(back_populates="agenda_items")
    parent: Mapped[AgendaItem | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<AgendaItem {self.number} event={self.event_id}>"


class EventDocument(db.Model):
    """A document of the session, UN style: symbol, title, agenda item, language versions."""

    __tablename__ = "event_documents"
    __table_args__ = (UniqueConstraint("event_id", "symbol"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_agenda_items.id", ondelete="SET NULL")
    )
    symbol: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(back_populates="documents")
    agenda_item: Mapped[AgendaItem | None] = relationship()
    files: Mapped[list[EventDocumentFile]] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        order_by="EventDocumentFile.language",
    )

    def __repr__(self) -> str:
        return f"<EventDocument {self.symbol!r}>"


class EventDocumentFile(db.Model):
    """One language version of a document, stored like a message attachment (encrypted
    outside the web root under ``storage_key``, SHA-256 of the plaintext)."""

    __tablename__ = "event_document_files"
    __table_args__ = (UniqueConstraint("document_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("event_documents.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(8))  # ISO 639-1
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[EventDocument] = relationship(back_populates="files")

    def __repr__(self) -> str:
        return f"<EventDocumentFile {self.id} {self.language} {self.filename!r}>"


class EventSession(db.Model):
    """A meeting of the organisation of work: a time slot and the agenda items taken."""

    __tablename__ = "event_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(300), default="", server_default="")

    event: Mapped[Event] = relationship(back_populates="sessions")
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        secondary=session_agenda_items, order_by="AgendaItem.position"
    )

    def __repr__(self) -> str:
        return f"<EventSession {self.id} event={self.event_id} {self.starts_at}>"


class Invitation(db.Model):
    __tablename__ = "event_invitations"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(back_populates="invitations")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<Invitation event={self.event_id} user={self.user_id}>"


class Registration(db.Model):
    """A delegate's registration: RSVP, country represented, attendance mode, whether they
    come from the capital, check-in and attendance. ``user_id`` is None for delegates
    recorded by the secretariat without an account (past sessions, walk-ins)."""

    __tablename__ = "event_registrations"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2 represented
    status: Mapped[str] = mapped_column(String(20), default=RsvpStatus.ACCEPTED.value)
    attendance_mode: Mapped[str] = mapped_column(String(20), default=AttendanceMode.IN_PERSON.value)
    capital_based: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="registrations")
    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Registration event={self.event_id} {self.country} {self.status}>"


class CalendarProfile(db.Model):
    """A person's calendar settings: office hours (in their profile time zone) for the
    time-zone planner, and the SHA-256 of their feed secret (None = no feed)."""

    __tablename__ = "calendar_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    office_start: Mapped[time] = mapped_column(Time, default=time(9, 0))
    office_end: Mapped[time] = mapped_column(Time, default=time(17, 0))
    feed_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    feed_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<CalendarProfile user={self.user_id}>"


class ReminderSent(db.Model):
    """One reminder per person and occurrence: what makes `send-reminders` idempotent."""

    __tablename__ = "event_reminders_sent"
    __table_args__ = (UniqueConstraint("event_id", "user_id", "occurrence_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    occurrence_start: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ReminderSent event={self.event_id} user={self.user_id}>"
