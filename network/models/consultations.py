"""Live consultations: a room where the people of a case (or of a direct conversation)
meet in real time. Each consultation owns a channel of kind ``consultation``: its messages
go through the channels' pipeline, and its transcript is that channel's history.

The channel's members are the people admitted to the room (the moderator is its owner);
an invited person is a participant row only, until the moderator admits them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from network.extensions import db
from network.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from network.models.cases import Case
    from network.models.messaging import Channel
    from network.models.people import User


class ConsultationStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # opens at ``scheduled_at`` (a calendar event's start)
    LIVE = "live"
    ENDED = "ended"  # read-only; the transcript stays


class ParticipantState(enum.StrEnum):
    INVITED = "invited"  # knocked; waits for the moderator to admit them
    ADMITTED = "admitted"  # in the room's channel
    REMOVED = "removed"  # by the moderator, or by leaving the case


class Consultation(db.Model):
    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), unique=True
    )
    # The case whose people meet here (its record keeps the transcript), if any.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    # Where it was started from: a case channel or a direct conversation.
    origin_channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL")
    )
    # A calendar event (built separately): a plain id, no foreign key.
    calendar_event_id: Mapped[int | None] = mapped_column(Integer, index=True)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=ConsultationStatus.LIVE.value)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    channel: Mapped[Channel] = relationship(foreign_keys=[channel_id])
    case: Mapped[Case | None] = relationship()
    moderator: Mapped[User | None] = relationship()
    participants: Mapped[list[ConsultationParticipant]] = relationship(
        back_populates="consultation",
        cascade="all, delete-orphan",
        order_by="ConsultationParticipant.id",
    )

    @property
    def room(self) -> str:
        """The Socket.IO room of the people present (presence, signalling)."""
        return f"consultation:{self.id}"

    @property
    def is_ended(self) -> bool:
        return self.status == ConsultationStatus.ENDED.value

    def participant_for(self, user_id: int | None) -> ConsultationParticipant | None:
        if user_id is None:
            return None
        session = object_session(self)
        if "participants" in self.__dict__ or session is None or self.id is None:
            return next((p for p in self.participants if p.user_id == user_id), None)
        return session.scalar(_PARTICIPANT_FOR, {"cid": self.id, "uid": user_id})

    def __repr__(self) -> str:
        return f"<Consultation {self.id} {self.status} {self.title!r}>"


class ConsultationParticipant(db.Model):
    __tablename__ = "consultation_participants"
    __table_args__ = (UniqueConstraint("consultation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=ParticipantState.INVITED.value)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    consultation: Mapped[Consultation] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<ConsultationParticipant {self.consultation_id} user={self.user_id} {self.state}>"


_PARTICIPANT_FOR = select(ConsultationParticipant).where(
    ConsultationParticipant.consultation_id == bindparam("cid"),
    ConsultationParticipant.user_id == bindparam("uid"),
)
