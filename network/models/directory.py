"""The directory: networks, their member states, and contact points."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from network.extensions import db
from network.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from network.models.network_names import NetworkName
    from network.models.people import User


class AuthorityType(enum.StrEnum):
    CENTRAL_AUTHORITY = "central_authority"
    PROSECUTION = "prosecution"
    JUDICIARY = "judiciary"
    LAW_ENFORCEMENT = "law_enforcement"
    LIAISON_MAGISTRATE = "liaison_magistrate"
    SECRETARIAT = "secretariat"


class Expertise(enum.StrEnum):
    EXTRADITION = "extradition"
    MLA = "mla"
    CONFISCATION = "confiscation"
    E_EVIDENCE = "e_evidence"
    JOINT_INVESTIGATIONS = "joint_investigations"
    SPECIAL_TECHNIQUES = "special_techniques"
    TRANSFER_OF_PROCEEDINGS = "transfer_of_proceedings"
    TRANSFER_OF_SENTENCED = "transfer_of_sentenced"
    CULTURAL_PROPERTY = "cultural_property"
    TERRORISM = "terrorism"
    CYBERCRIME = "cybercrime"


class TransmissionChannel(enum.StrEnum):
    SECURE_PLATFORM = "secure_platform"
    EMAIL = "email"
    DIPLOMATIC = "diplomatic"
    INTERPOL = "interpol"
    POST = "post"


class AttributeKind(enum.StrEnum):
    """The multi-valued, coded attributes of a contact point."""

    EXPERTISE = "expertise"
    LANGUAGE = "language"  # languages the person speaks
    REQUEST_LANGUAGE = "request_language"  # languages in which requests are accepted
    CHANNEL = "channel"  # accepted transmission channels


contact_point_networks = Table(
    "contact_point_networks",
    db.metadata,
    Column(
        "contact_point_id",
        ForeignKey("contact_points.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("network_id", ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_contact_point_networks_network", "network_id", "contact_point_id"),
)


class Network(db.Model):
    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    acronym: Mapped[str] = mapped_column(String(40))
    # The name of record (column "name"); ``name`` below is the reader's language's.
    default_name: Mapped[str] = mapped_column("name", String(200))
    region: Mapped[str] = mapped_column(String(120), default="", server_default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    secretariat: Mapped[str] = mapped_column(Text, default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # --- sessions and accounts (issue 8): members must sign in with a second factor ---
    require_2fa: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    member_states: Mapped[list[NetworkMemberState]] = relationship(
        back_populates="network",
        cascade="all, delete-orphan",
        order_by="NetworkMemberState.country",
    )

    # --- names per language (issue 9) ---
    localized_names: Mapped[list[NetworkName]] = relationship(
        back_populates="network",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="NetworkName.locale",
    )

    @hybrid_property
    def name(self) -> str:
        """The name in the reader's language when the network has one, else the default
        name. In SQL (ordering, filtering) it is the default name."""
        return self.name_in(_reader_locale())

    @name.inplace.setter
    def _name_setter(self, value: str) -> None:
        self.default_name = value

    @name.inplace.expression
    @classmethod
    def _name_expression(cls):  # type: ignore[no-untyped-def]
        return cls.default_name

    def name_in(self, locale: str | None) -> str:
        for entry in self.localized_names:
            if entry.locale == locale and entry.name:
                return entry.name
        return self.default_name

    @property
    def names_by_locale(self) -> dict[str, str]:
        return {entry.locale: entry.name for entry in self.localized_names}

    @property
    def country_codes(self) -> list[str]:
        return [state.country for state in self.member_states]

    def __repr__(self) -> str:
        return f"<Network {self.slug}>"


def _reader_locale() -> str | None:
    """The language of the current request or ``force_locale`` block; None without an app."""
    from flask import has_app_context
    from flask_babel import get_locale

    if not has_app_context():
        return None
    locale = get_locale()
    return locale.language if locale else None


class NetworkMemberState(db.Model):
    __tablename__ = "network_member_states"
    __table_args__ = (UniqueConstraint("network_id", "country"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(ForeignKey("networks.id", ondelete="CASCADE"))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166-1 alpha-2

    network: Mapped[Network] = relationship(back_populates="member_states")

    def __repr__(self) -> str:
        return f"<NetworkMemberState {self.network_id} {self.country}>"


class ContactPoint(db.Model):
    """A person named by their country as a contact point; may exist without an account."""

    __tablename__ = "contact_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    institution: Mapped[str] = mapped_column(String(300), default="", server_default="")
    authority_type: Mapped[str] = mapped_column(String(30), index=True)
    country: Mapped[str] = mapped_column(String(2), index=True)
    e_signature_accepted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    available_24_7: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    office_hours: Mapped[str] = mapped_column(String(200), default="", server_default="")
    office_timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    postal_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    last_confirmed_at: Mapped[date | None] = mapped_column(Date, index=True)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Accent- and case-folded copy of name, institution, title and notes for search.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    succeeded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_points.id", ondelete="SET NULL"), index=True
    )
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    networks: Mapped[list[Network]] = relationship(
        secondary=contact_point_networks, order_by="Network.acronym"
    )
    attributes: Mapped[list[ContactPointAttribute]] = relationship(
        back_populates="contact_point",
        cascade="all, delete-orphan",
        order_by="ContactPointAttribute.id",
    )
    user: Mapped[User | None] = relationship()
    succeeded_by: Mapped[ContactPoint | None] = relationship(remote_side=[id])

    def codes(self, kind: AttributeKind) -> list[str]:
        return [a.code for a in self.attributes if a.kind == kind]

    @property
    def expertise(self) -> list[str]:
        return self.codes(AttributeKind.EXPERTISE)

    @property
    def languages(self) -> list[str]:
        return self.codes(AttributeKind.LANGUAGE)

    @property
    def request_languages(self) -> list[str]:
        return self.codes(AttributeKind.REQUEST_LANGUAGE)

    @property
    def channels(self) -> list[str]:
        return self.codes(AttributeKind.CHANNEL)

    @property
    def is_current(self) -> bool:
        return self.succeeded_by_id is None

    def __repr__(self) -> str:
        return f"<ContactPoint {self.id} {self.country}>"


class ContactPointAttribute(db.Model):
    """One coded value of a multi-valued attribute (expertise, language, channel)."""

    __tablename__ = "contact_point_attributes"
    __table_args__ = (
        UniqueConstraint("contact_point_id", "kind", "code"),
        Index("ix_contact_point_attributes_kind_code", "kind", "code", "contact_point_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_point_id: Mapped[int] = mapped_column(
        ForeignKey("contact_points.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))

    contact_point: Mapped[ContactPoint] = relationship(back_populates="attributes")

    def __repr__(self) -> str:
        return f"<ContactPointAttribute {self.kind}={self.code}>"


class DirectoryRevision(db.Model):
    """One row whose random token changes with every write to the contact points, so a
    process can tell whether its in-memory search index is still current
    (``network.services.directory_index``)."""

    __tablename__ = "directory_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<DirectoryRevision {self.token}>"
