"""The demo data of cases, a working group and a conversation: believable, and loaded
once however many times ``seed-demo`` runs."""

from __future__ import annotations

from sqlalchemy import func, select

from network.models.cases import Case, CaseStatusChange
from network.models.messaging import Channel, ChannelMember, Message
from network.services import accounts, cases, demo


def _counts(db):  # type: ignore[no-untyped-def]
    return tuple(
        db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Case, CaseStatusChange, Channel, ChannelMember, Message)
    )


def test_demo_cases_and_conversations_are_seeded_once(app, db):
    demo.seed(per_state=1)
    first = _counts(db)
    demo.seed(per_state=1)
    assert _counts(db) == first

    found = list(db.session.scalars(select(Case)))
    assert 4 <= len(found) <= 6
    assert {c.network.slug for c in found} == {"wacap", "iberred"}
    assert len({c.status for c in found}) >= 5
    assert any(c.pretrial_detention for c in found)
    today = cases.today_for(None)
    assert sum(cases.is_overdue(c, today) for c in found) == 1
    for case in found:
        assert case.channel.kind == "case"
        changes = [c.changed_at for c in case.status_changes]
        assert changes == sorted(changes)
        assert case.status_changes[-1].to_status == case.status
        assert db.session.scalar(
            select(func.count()).select_from(Message).where(Message.channel_id == case.channel_id)
        )

    group = db.session.scalar(
        select(Channel).where(
            Channel.kind == "topic", Channel.name == "Asset recovery working group"
        )
    )
    assert group.network.slug == "wacap"
    direct = db.session.scalars(select(Channel).where(Channel.kind == "direct")).all()
    assert len(direct) == 1
    for channel in (group, direct[0]):
        assert (
            db.session.scalar(
                select(func.count()).select_from(Message).where(Message.channel_id == channel.id)
            )
            >= 2
        )


def test_the_senegalese_demo_contact_point_sees_the_wacap_cases_by_priority(app, db):
    demo.seed(per_state=1)
    senegal = accounts.get_user_by_email("contact.senegal@example.org")
    page = cases.list_cases(senegal)
    assert page.total == 4
    assert page.items[0].priority.level == "high"
    assert page.items[-1].case.status == "executed"
    spain = accounts.get_user_by_email("contact.spain@example.org")
    assert {r.case.network.slug for r in cases.list_cases(spain).items} == {"iberred"}
