"""Who sees and runs an event, per role, visibility and network."""

from __future__ import annotations

import pytest
from flask_login import AnonymousUserMixin

from network import policy
from network.services import calendar as cal


@pytest.mark.parametrize(
    ("visibility", "expected"),
    [
        # coordinator, secretariat, member, observer, other network's member, anonymous
        ("public", (True, True, True, True, True, True)),
        ("members", (True, True, True, True, False, False)),
        ("invited", (True, True, False, False, False, False)),
    ],
)
def test_visibility_per_role(db, people, make_event, visibility, expected):
    event = make_event(visibility=visibility)
    users = (people.coordinator, people.secretariat, people.member, people.observer,
             people.outsider, AnonymousUserMixin())  # fmt: skip
    assert tuple(policy.can_view_event(u, event) for u in users) == expected


def test_only_organisers_manage_even_a_public_event(db, people, make_event):
    event = make_event(visibility="public")
    assert policy.can_manage_event(people.coordinator, event)
    assert policy.can_manage_event(people.secretariat, event)
    for user in (people.member, people.observer, people.outsider, people.other_coordinator):
        assert not policy.can_manage_event(user, event)


def test_an_invited_outsider_sees_an_invitation_only_event(db, people, make_event, listed_outsider):
    event = make_event(visibility="invited")
    assert not policy.can_view_event(people.outsider, event)
    cal.invite(people.coordinator, event, [people.outsider.id])
    assert policy.can_view_event(people.outsider, event)
    assert policy.can_register_for_event(people.outsider, event)
    assert not policy.can_view_event(people.member, event)


def test_a_draft_is_for_organisers_and_invited_people(db, people, make_event):
    event = make_event(status="draft", visibility="public")
    assert not policy.can_view_event(people.member, event)
    assert not policy.can_view_event(AnonymousUserMixin(), event)
    assert policy.can_view_event(people.secretariat, event)
    cal.invite(people.coordinator, event, [people.member.id])
    assert policy.can_view_event(people.member, event)
    assert not policy.can_register_for_event(people.member, event)  # not scheduled yet


def test_a_jointly_organised_event_is_run_by_both_networks(db, people, make_event):
    event = make_event(networks=["wacap"])
    cal.update_event(people.coordinator, event, {**cal.form_values(event), "networks": ["wacap"]})
    # The WACAP coordinator cannot add IberRed; IberRed's coordinator can then be added by
    # an administrator or by creating the event jointly.
    from network.errors import ValidationError

    with pytest.raises(ValidationError):
        cal.update_event(
            people.coordinator, event, {**cal.form_values(event), "networks": ["wacap", "iberred"]}
        )


def test_admin_manages_every_event(db, people, make_event, make_user):
    event = make_event()
    assert policy.can_manage_event(make_user(admin=True), event)
