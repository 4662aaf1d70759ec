"""Calendar fixtures: an organising network with a coordinator, a member, an outsider,
and a factory of events made through the service (local times in the event's zone)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from network.models.calendar import Event
from network.services import calendar as cal


@pytest.fixture
def people(make_network, make_user) -> SimpleNamespace:
    wacap = make_network("wacap", acronym="WACAP")
    iberred = make_network("iberred", states="ES CO", acronym="IberRed")
    return SimpleNamespace(
        wacap=wacap,
        iberred=iberred,
        coordinator=make_user("coordinator", wacap),
        secretariat=make_user("secretariat", wacap),
        member=make_user("contact_point", wacap),
        observer=make_user("observer", wacap),
        outsider=make_user("contact_point", iberred),
        other_coordinator=make_user("coordinator", iberred),
    )


def event_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "title": "WACAP plenary",
        "kind": "plenary",
        "format": "hybrid",
        "visibility": "members",
        "venue": "Dakar, Hotel Terrou-Bi",
        "online_url": "https://meet.example.org/wacap",
        "starts_at": "2027-03-10T09:00",
        "ends_at": "2027-03-10T17:00",
        "timezone": "Africa/Dakar",
        "networks": ["wacap"],
        "registration_open": "1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_event(people) -> Callable[..., Event]:
    def factory(user: Any = None, **overrides: Any) -> Event:
        return cal.create_event(user or people.coordinator, event_data(**overrides))

    return factory


@pytest.fixture
def listed_outsider(people, list_in_directory) -> Any:
    """The IberRed contact point, listed in WACAP's directory: WACAP's organisers can reach
    (and so invite) them, though they are no member of WACAP."""
    return list_in_directory(people.outsider, "wacap")
