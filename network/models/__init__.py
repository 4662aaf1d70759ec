"""SQLAlchemy models, one module per domain; importing this package registers them all."""

from network.models.directory import (
    ContactPoint,
    ContactPointAttribute,
    DirectoryRevision,
    Network,
    NetworkMemberState,
    contact_point_networks,
)
from network.models.people import (
    AccessToken,
    AuditEvent,
    LoginThrottle,
    Membership,
    Role,
    User,
)

__all__ = [
    "AccessToken",
    "AuditEvent",
    "ContactPoint",
    "ContactPointAttribute",
    "DirectoryRevision",
    "LoginThrottle",
    "Membership",
    "Network",
    "NetworkMemberState",
    "Role",
    "User",
    "contact_point_networks",
]
