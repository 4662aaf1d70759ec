"""Network membership: who belongs to a network in which role, and invitations.

Coordinators and secretariats manage their network's members; a person without an
account is invited by e-mail with a link to choose a password.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from network import i18n, policy, signing
from network.errors import Conflict, Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.directory import Network
from network.models.people import Membership, Role, User
from network.services import accounts, audit, mail, messaging

log = logging.getLogger(__name__)
INVITATION_MAX_AGE = 14 * 24 * 3600


def role_label(role: str) -> str:
    return {
        Role.CONTACT_POINT: _("Contact point"),
        Role.COORDINATOR: _("Coordinator"),
        Role.SECRETARIAT: _("Secretariat"),
        Role.OBSERVER: _("Observer"),
    }.get(role, role)


def role_choices() -> list[tuple[str, str]]:
    return [(r.value, role_label(r.value)) for r in Role]


def members(network: Network, actor: Any) -> list[Membership]:
    """The network's memberships, by name; raises ``Forbidden``."""
    if not policy.can_manage_members(actor, network):
        raise Forbidden()
    return list(
        db.session.scalars(
            select(Membership)
            .join(User)
            .where(Membership.network_id == network.id)
            .order_by(User.name, User.id)
        )
    )


def _check_role(role: str) -> None:
    if role not in {r.value for r in Role}:
        raise ValidationError(fields={"role": _("Choose a role from the list.")})


def add_member(network: Network, email: str, name: str, role: str, actor: Any) -> Membership:
    """Give a person a role in ``network``; an unknown e-mail gets an account and an
    invitation to choose a password.

    Raises ``Forbidden``, ``ValidationError`` or ``Conflict`` (already a member).
    """
    if not policy.can_manage_members(actor, network):
        raise Forbidden()
    _check_role(role)
    address = accounts.normalise_email(email)
    user = accounts.get_user_by_email(address)
    invited = False
    if user is None:
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise ValidationError(
                fields={"name": _("Give the new member's name (at most 200 characters).")}
            )
        user = User(email=address, name=name, password_hash=None)
        db.session.add(user)
        db.session.flush()
        audit.record(actor, "user.invite", "user", user.id, after={"email": address})
        invited = True
    elif user.role_in(network.id) is not None:
        raise Conflict(
            _(
                "%(name)s is already a member of this network.",
                name=i18n.isolate(user.name, markup=False),
            )
        )
    membership = Membership(user=user, network_id=network.id, role=role)
    db.session.add(membership)
    db.session.flush()
    audit.record(
        actor, "membership.add", "network", network.id, after={"user": user.email, "role": role}
    )
    db.session.commit()
    if invited:
        send_invitation(user, network)
    return membership


def _get_membership(network: Network, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.network_id != network.id:
        raise NotFound()
    return membership


def change_role(network: Network, membership_id: int, role: str, actor: Any) -> None:
    """Change a member's role; nobody changes their own. Raises ``Forbidden``,
    ``NotFound``, ``ValidationError``."""
    if not policy.can_manage_members(actor, network):
        raise Forbidden()
    _check_role(role)
    membership = _get_membership(network, membership_id)
    if membership.user_id == getattr(actor, "id", None):
        raise ValidationError(_("You cannot change your own role."))
    before = membership.role
    membership.role = role
    audit.record(
        actor,
        "membership.role",
        "network",
        network.id,
        {"user": membership.user.email, "role": before},
        {"user": membership.user.email, "role": role},
    )
    db.session.commit()


def remove_member(network: Network, membership_id: int, actor: Any) -> None:
    """Remove a member from the network; nobody removes themselves here."""
    if not policy.can_manage_members(actor, network):
        raise Forbidden()
    membership = _get_membership(network, membership_id)
    if membership.user_id == getattr(actor, "id", None):
        raise ValidationError(_("You cannot remove yourself."))
    audit.record(
        actor,
        "membership.remove",
        "network",
        network.id,
        before={"user": membership.user.email, "role": membership.role},
    )
    user_id = membership.user_id
    db.session.delete(membership)
    db.session.commit()
    # They leave the network's working groups, and their sockets leave the rooms of the
    # network's channels now, not at their next event.
    messaging.evict_from_network(user_id, network.id, actor)


_INVITATION_PURPOSE = "invitation"


def invitation_token(user: User) -> str:
    # Bound to the password state: the link stops working once a password is set.
    return signing.sign(_INVITATION_PURPOSE, {"user": user.id, "state": user.password_hash or ""})


def send_invitation(user: User, network: Network) -> None:
    base = current_app.config["BASE_URL"].rstrip("/")
    link = f"{base}/invitation/{invitation_token(user)}"
    with force_locale(i18n.recipient_locale(user.locale, network.languages or [])):
        body = _(
            "Dear %(name)s,\n\nYou have been added to %(network)s on the judicial cooperation "
            "networks platform. Choose your password here (the link is valid for 14 days):\n\n"
            "%(link)s\n",
            name=user.name,
            network=network.acronym,
            link=link,
        )
        subject = _("Your account on the %(network)s platform", network=network.acronym)
    mail.send_mail(user.email, subject, body)


def user_for_invitation(token: str) -> User:
    """The invited user behind a token; raises ``ValidationError`` when it is not valid."""
    data = signing.unsign(
        _INVITATION_PURPOSE,
        token,
        INVITATION_MAX_AGE,
        expired=_("This invitation has expired. Ask your coordinator for a new one."),
        invalid=_("This invitation link is not valid."),
    )
    user = db.session.get(User, data["user"]) if isinstance(data.get("user"), int) else None
    if (
        user is None
        or (user.password_hash or "") != data.get("state")
        or not user.is_active_account
    ):
        raise ValidationError(_("This invitation has already been used."))
    return user


def accept_invitation(token: str, password: str) -> User:
    """Set the invited person's password; raises ``ValidationError``."""
    user = user_for_invitation(token)
    user.password_hash = accounts.hash_password(password)
    audit.record(user, "user.invitation_accepted", "user", user.id)
    db.session.commit()
    return user
