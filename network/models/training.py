"""Training-of-trainers: programmes of ordered modules (objectives, materials, a
multiple-choice quiz), cohorts with their trainers and enrolled trainees, per-module
progress signed off by a trainer, pre/post test attempts, certificates and the cascade
(a cohort led by a trainer certified in the same programme)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.extensions import db
from network.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from network.models.directory import Network
    from network.models.people import User


class Profession(enum.StrEnum):
    PROSECUTOR = "prosecutor"
    JUDGE = "judge"
    LAW_ENFORCEMENT = "law_enforcement"
    CENTRAL_AUTHORITY = "central_authority"
    INTERPOL = "interpol"
    OTHER = "other"


class Gender(enum.StrEnum):
    """Self-declared and optional (seed 003 §3(c)); None means not given."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    PREFER_NOT_TO_SAY = "prefer_not_to_say"


class ProgressStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class AttemptKind(enum.StrEnum):
    PRE = "pre"
    POST = "post"


class Programme(db.Model):
    __tablename__ = "training_programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Certification rule: every module completed and a post-test score (percent) at or
    # above this threshold.
    pass_threshold: Mapped[int] = mapped_column(Integer, default=70, server_default="70")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    network: Mapped[Network] = relationship()
    modules: Mapped[list[Module]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="Module.position"
    )
    cohorts: Mapped[list[Cohort]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="Cohort.starts_on"
    )

    def __repr__(self) -> str:
        return f"<Programme {self.id} {self.title!r}>"


class Module(db.Model):
    __tablename__ = "training_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("training_programmes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    objectives: Mapped[str] = mapped_column(Text, default="", server_default="")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=60, server_default="60")

    programme: Mapped[Programme] = relationship(back_populates="modules")
    materials: Mapped[list[Material]] = relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="Material.id"
    )
    questions: Mapped[list[Question]] = relationship(
        back_populates="module", cascade="all, delete-orphan", order_by="Question.position"
    )

    def __repr__(self) -> str:
        return f"<Module {self.id} {self.position}. {self.title!r}>"


class Material(db.Model):
    """A file of a module, stored encrypted through ``network.services.attachments``
    (same content checks, same sealed storage, same SHA-256 check on every read)."""

    __tablename__ = "training_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(
        ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    module: Mapped[Module] = relationship(back_populates="materials")

    @property
    def channel_id(self) -> None:
        """Read by the attachment integrity log; a material belongs to no channel."""
        return None

    def __repr__(self) -> str:
        return f"<Material {self.id} {self.filename!r}>"


class Question(db.Model):
    __tablename__ = "training_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(
        ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(1000))

    module: Mapped[Module] = relationship(back_populates="questions")
    options: Mapped[list[Option]] = relationship(
        back_populates="question", cascade="all, delete-orphan", order_by="Option.position"
    )

    def __repr__(self) -> str:
        return f"<Question {self.id} module={self.module_id}>"


class Option(db.Model):
    __tablename__ = "training_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("training_questions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(String(500))
    is_correct: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    question: Mapped[Question] = relationship(back_populates="options")

    def __repr__(self) -> str:
        return f"<Option {self.id} question={self.question_id}>"


cohort_trainers = Table(
    "training_cohort_trainers",
    db.metadata,
    Column(
        "cohort_id",
        ForeignKey("training_cohorts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # "Cohorts I train" looks cohorts up by trainer.
    Index("ix_training_cohort_trainers_user_id", "user_id"),
)


class Cohort(db.Model):
    __tablename__ = "training_cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("training_programmes.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200), default="", server_default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A cascade cohort is led by a trainer certified in this programme; None for the
    # programme's own training-of-trainers cohorts.
    parent_trainer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # The calendar event of the cohort, when there is one. A plain integer: the calendar
    # is a separate domain and may not exist in every deployment.
    event_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[Programme] = relationship(back_populates="cohorts")
    parent_trainer: Mapped[User | None] = relationship()
    trainers: Mapped[list[User]] = relationship(secondary=cohort_trainers, order_by="User.name")
    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="cohort", cascade="all, delete-orphan", order_by="Enrolment.name"
    )

    def __repr__(self) -> str:
        return f"<Cohort {self.id} {self.title!r}>"


class Enrolment(db.Model):
    """A trainee in a cohort. ``user_id`` is set when the trainee has an account (to see
    their progress and take the tests online); a trainer may also record trainees
    without one (their name, country, profession)."""

    __tablename__ = "training_enrolments"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("training_cohorts.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    profession: Mapped[str] = mapped_column(String(30))
    gender: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cohort: Mapped[Cohort] = relationship(back_populates="enrolments")
    user: Mapped[User | None] = relationship()
    progress: Mapped[list[ModuleProgress]] = relationship(
        back_populates="enrolment", cascade="all, delete-orphan"
    )
    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="enrolment", cascade="all, delete-orphan"
    )
    certificate: Mapped[Certificate | None] = relationship(
        back_populates="enrolment", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Enrolment {self.id} cohort={self.cohort_id} {self.name!r}>"


class ModuleProgress(db.Model):
    __tablename__ = "training_progress"
    __table_args__ = (UniqueConstraint("enrolment_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("training_enrolments.id", ondelete="CASCADE"), index=True
    )
    module_id: Mapped[int] = mapped_column(
        ForeignKey("training_modules.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=ProgressStatus.NOT_STARTED.value)
    completed_on: Mapped[date | None] = mapped_column(Date)
    signed_off_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="progress")
    module: Mapped[Module] = relationship()
    signed_off_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ModuleProgress enrolment={self.enrolment_id} module={self.module_id}>"


class Attempt(db.Model):
    """A pre- or post-test: taken online (answers recorded, scored automatically) or a
    paper test whose score a trainer recorded (``recorded_by_id`` set, no answers)."""

    __tablename__ = "training_attempts"
    __table_args__ = (UniqueConstraint("enrolment_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("training_enrolments.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(4))
    score: Mapped[float] = mapped_column(Float)  # percent, 0-100
    correct: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[int | None] = mapped_column(Integer)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="attempts")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Attempt {self.id} {self.kind} {self.score}>"


class Answer(db.Model):
    __tablename__ = "training_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("training_attempts.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("training_questions.id", ondelete="CASCADE"), index=True
    )
    option_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_options.id", ondelete="SET NULL")
    )
    correct: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    attempt: Mapped[Attempt] = relationship(back_populates="answers")

    def __repr__(self) -> str:
        return f"<Answer attempt={self.attempt_id} question={self.question_id}>"


class Certificate(db.Model):
    """A trainee certified as a trainer. ``code`` is random (``secrets``), checked at the
    public verification page, which shows only the holder's name, programme and date."""

    __tablename__ = "training_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("training_enrolments.id", ondelete="CASCADE"), unique=True
    )
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("training_programmes.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    holder_name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="certificate")
    programme: Mapped[Programme] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    def __repr__(self) -> str:
        return f"<Certificate {self.id} enrolment={self.enrolment_id}>"
