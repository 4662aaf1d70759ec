"""SQLAlchemy models, one module per domain; importing this package registers them all."""

from network.models.directory import (
    ContactPoint,
    ContactPointAttribute,
    DirectoryRevision,
    Network,
    NetworkMemberState,
    contact_point_networks,
)
from network.models.messaging import (
    Channel,
    ChannelKind,
    ChannelMember,
    Message,
    MessageRevision,
    ReadMarker,
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
    "Channel",
    "ChannelKind",
    "ChannelMember",
    "ContactPoint",
    "ContactPointAttribute",
    "DirectoryRevision",
    "LoginThrottle",
    "Membership",
    "Message",
    "MessageRevision",
    "Network",
    "NetworkMemberState",
    "ReadMarker",
    "Role",
    "User",
    "contact_point_networks",
]
