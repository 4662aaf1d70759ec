"""Presence of a live consultation across server processes (issue 7): two members of one
room connected to two processes see the same people in it; when one process crashes, the
people it held leave the presence that the other process's clients see."""

from __future__ import annotations

from tests.realtime_server.conftest import wait_until
from tests.realtime_server.test_consultations_live import Member, _case_room, _enter
from tests.scaleout.conftest import Cluster


def test_presence_agrees_across_processes_and_forgets_a_crashed_one(cluster: Cluster, peers):
    first, second = cluster.servers
    room = _case_room(first, ["coordinator"])
    made: list[Member] = []

    def member(server, who: str) -> Member:
        connected = Member(server, who)
        made.append(connected)
        return connected.connect()

    try:
        moderator = member(first, "sender")
        guest = member(second, "coordinator")
        moderator_id = _enter(moderator, room)["presence"]["online"][0]["id"]
        guest_id = room["ids"]["coordinator"]
        # The guest knocks through the other process and waits at the door...
        assert _enter(guest, room)["state"] == "waiting"
        wait_until(
            lambda: any(
                [p["id"] for p in e["waiting"]] == [guest_id] for e in moderator.got("presence")
            ),
            "the moderator to see the guest waiting at the door",
        )
        # ...is admitted by the moderator, whose process does not hold the guest's socket...
        admit = moderator.call(
            "consultation_admit", {"consultation_id": room["id"], "user_id": guest_id}
        )
        assert admit["ok"], admit
        wait_until(lambda: bool(guest.got("consultation_admitted")), "the admission")
        assert _enter(guest, room)["state"] == "admitted"
        both = sorted([moderator_id, guest_id])
        # ...and both processes' clients see the same two people in the room.
        wait_until(lambda: moderator.online() == both, lambda: f"both, got {moderator.online()}")
        wait_until(lambda: guest.online() == both, lambda: f"both, got {guest.online()}")

        cluster.kill(second)  # the guest's process crashes: nobody says goodbye
        wait_until(
            lambda: moderator.online() == [moderator_id],
            lambda: f"the guest gone from the presence, got {moderator.online()}",
        )
        assert guest_id not in [p["id"] for p in moderator.got("presence")[-1]["waiting"]]
    finally:
        for connected in made:
            connected.close()
