"""Case records: a live request for international cooperation (MLA, extradition, …)
between a requesting and a requested state, with its status workflow, its priority
criteria (DOMAIN.md, seed 003 §16) and its case channel."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.extensions import db
from network.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from network.models.directory import Network
    from network.models.messaging import Channel
    from network.models.people import User


class CaseType(enum.StrEnum):
    MLA = "mla"  # mutual legal assistance (UNTOC art. 18)
    EXTRADITION = "extradition"  # art. 16
    CONFISCATION = "confiscation"  # confiscation and asset recovery, art. 13-14
    JOINT_INVESTIGATION = "joint_investigation"  # art. 19
    TRANSFER_OF_PROCEEDINGS = "transfer_of_proceedings"  # art. 21
    TRANSFER_OF_SENTENCED_PERSONS = "transfer_of_sentenced_persons"
    E_EVIDENCE_PRESERVATION = "e_evidence_preservation"


class CaseStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    RECEIVED = "received"
    IN_EXECUTION = "in_execution"
    ADDITIONAL_INFORMATION_REQUESTED = "additional_information_requested"
    EXECUTED = "executed"
    PARTIALLY_EXECUTED = "partially_executed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class OffenceSeriousness(enum.StrEnum):
    ORDINARY = "ordinary"
    SERIOUS = "serious"  # UNTOC art. 2(b): at least four years' deprivation of liberty
    VERY_SERIOUS = "very_serious"  # e.g. homicide, trafficking in persons, terrorism


class ProceedingsStage(enum.StrEnum):
    INVESTIGATION = "investigation"
    PROSECUTION = "prosecution"
    TRIAL = "trial"
    APPEAL = "appeal"
    ENFORCEMENT = "enforcement"


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        # Not unique: a reference is refused only when it repeats a case its author may
        # read (services.cases), else the refusal would tell a bystander that a
        # confidential case with that reference exists.
        Index("ix_cases_network_reference", "network_id", "reference"),
        Index("ix_cases_priority", "priority_score", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The network in which the counterparts cooperate on this case.
    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), unique=True
    )
    reference: Mapped[str] = mapped_column(String(100))
    case_type: Mapped[str] = mapped_column(String(40))
    requesting_state: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    requested_state: Mapped[str] = mapped_column(String(2))
    legal_basis: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # Facts of the case are confidential: AES-GCM under the data key (context "case:<id>").
    summary_encrypted: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40), default=CaseStatus.DRAFT.value)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline: Mapped[date | None] = mapped_column(Date)
    # Priority criteria (seed 003 §16), each recorded; the score is derived from them by
    # the service and stored so that case lists sort by it in the database.
    urgent: Mapped[bool] = mapped_column(default=False, server_default="0")
    urgency_reason: Mapped[str] = mapped_column(String(300), default="", server_default="")
    offence_seriousness: Mapped[str] = mapped_column(
        String(20), default=OffenceSeriousness.ORDINARY.value
    )
    pretrial_detention: Mapped[bool] = mapped_column(default=False, server_default="0")
    evidence_at_risk: Mapped[bool] = mapped_column(default=False, server_default="0")
    proceedings_stage: Mapped[str] = mapped_column(
        String(20), default=ProceedingsStage.INVESTIGATION.value
    )
    priority_score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    network: Mapped[Network] = relationship()
    channel: Mapped[Channel] = relationship()
    created_by: Mapped[User | None] = relationship()
    status_changes: Mapped[list[CaseStatusChange]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseStatusChange.id"
    )

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.reference!r} {self.status}>"


class CaseStatusChange(db.Model):
    """Every change of a case's status, timestamped, with who made it (the first row is
    the creation, ``from_status`` None)."""

    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="status_changes")
    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<CaseStatusChange case={self.case_id} {self.from_status}->{self.to_status}>"
