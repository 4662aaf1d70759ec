"""Fixtures for case records: two networks, people in every role around one case, and
valid input for a new case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from network.models.cases import Case
from network.models.directory import Network
from network.models.people import User
from network.services import accounts, cases


def case_data(**overrides: Any) -> dict[str, Any]:
    """Valid input for a new case; override what a test is about."""
    data: dict[str, Any] = {
        "reference": "SN-MLA-2026-001",
        "case_type": "mla",
        "requesting_state": "SN",
        "requested_state": "GH",
        "legal_basis": "UNTOC art. 18",
        "summary": "Bank records of a shell company in Accra.",
        "deadline": None,
        "urgent": False,
        "urgency_reason": "",
        "offence_seriousness": "ordinary",
        "pretrial_detention": False,
        "evidence_at_risk": False,
        "proceedings_stage": "investigation",
    }
    data.update(overrides)
    return data


@dataclass
class Desk:
    """A case of network A (WACAP) between ``owner`` and ``member``, and the people
    around it who must not see it."""

    network: Network
    other_network: Network
    owner: User  # contact point of A who opened the case
    member: User  # contact point of A added to the case
    bystander: User  # contact point of A, not in the case
    coordinator: User  # coordinator of A, not in the case
    admin: User  # site administrator, not in the case
    outsider: User  # contact point of another network
    case: Case

    def role(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


@pytest.fixture
def desk(make_network, make_user, db) -> Desk:  # type: ignore[no-untyped-def]
    wacap = make_network("wacap", acronym="WACAP", states="SN GH ML NG")
    iberred = make_network("iberred", acronym="IberRed", states="ES PT")
    owner = make_user("contact_point", wacap)
    member = make_user("contact_point", wacap)
    found = cases.create_case(owner, wacap, case_data(members=[member.id]))
    return Desk(
        network=wacap,
        other_network=iberred,
        owner=owner,
        member=member,
        bystander=make_user("contact_point", wacap),
        coordinator=make_user("coordinator", wacap),
        admin=make_user(admin=True),
        outsider=make_user("contact_point", iberred),
        case=found,
    )


def bearer(user: User) -> dict[str, str]:
    _token, plain = accounts.create_token(user, "tests")
    return {"Authorization": f"Bearer {plain}"}


def days(n: int) -> date:
    """``n`` days from today in UTC (the time zone of the test accounts)."""
    return datetime.now(UTC).date() + timedelta(days=n)
