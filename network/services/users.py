"""Account administration for site administrators: list, deactivate, reactivate, promote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from network import policy
from network.errors import Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.people import Membership, User
from network.services import audit

PER_PAGE = 50


@dataclass
class UserPage:
    items: list[User]
    total: int
    page: int
    pages: int


def list_users(actor: Any, q: str = "", page: int = 1) -> UserPage:
    """Accounts matching ``q`` (name or e-mail), by name; raises ``Forbidden``."""
    if not policy.can_manage_users(actor):
        raise Forbidden()
    query = select(User)
    q = (q or "").strip()[:200]
    if q:
        pattern = (
            "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    items = list(
        db.session.scalars(
            query.options(selectinload(User.memberships).selectinload(Membership.network))
            .order_by(func.lower(User.name), User.id)
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    return UserPage(items=items, total=total, page=page, pages=pages)


def _target(actor: Any, user_id: int) -> User:
    if not policy.can_manage_users(actor):
        raise Forbidden()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.id == getattr(actor, "id", None):
        raise ValidationError(_("You cannot change your own account here."))
    return user


def set_active(actor: Any, user_id: int, active: bool) -> User:
    """Deactivate (sign-in and tokens stop working at once) or reactivate an account."""
    user = _target(actor, user_id)
    if user.is_active_account != active:
        audit.record(
            actor,
            "user.activate" if active else "user.deactivate",
            "user",
            user.id,
            {"active": user.is_active_account},
            {"active": active},
        )
        user.is_active_account = active
        db.session.commit()
        if not active:
            # A deactivated person's sessions end on the server and their open sockets
            # close now (a reconnect is refused; ASVS 3.3.1).
            from network.services import sessions

            sessions.revoke_all(user.id, "deactivated")
    return user


def set_admin(actor: Any, user_id: int, admin: bool) -> User:
    """Grant or withdraw site administration."""
    user = _target(actor, user_id)
    if user.is_admin != admin:
        audit.record(
            actor, "user.admin", "user", user.id, {"admin": user.is_admin}, {"admin": admin}
        )
        user.is_admin = admin
        db.session.commit()
    return user


def end_sessions(actor: Any, user_id: int) -> User:
    """An administrator signs a person out everywhere (a stolen laptop): every
    server-side session ends and their sockets close (issue 8)."""
    from network.services import sessions

    user = _target(actor, user_id)
    ended = sessions.revoke_all(user.id, "admin")
    audit.record(actor, "user.sessions_end", "user", user.id, after={"sessions": ended})
    db.session.commit()
    return user
