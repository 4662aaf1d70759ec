"""The demo consultation: an ended room on the demo extradition case with its transcript,
seeded once however many times ``seed-demo`` runs, and nobody e-mailed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from network.models.consultations import Consultation
from network.models.messaging import Message
from network.services import consultations, demo


def test_the_demo_consultation_is_seeded_once(app, db):
    demo.seed(per_state=1)
    demo.seed(per_state=1)
    [room] = db.session.scalars(select(Consultation)).all()
    assert room.is_ended
    assert room.case.reference == "SN-EXT-2026-003"
    assert room.channel.archived_at is not None
    messages = list(
        db.session.scalars(
            select(Message).where(Message.channel_id == room.channel_id).order_by(Message.seq)
        )
    )
    kinds = [consultations.line_kind(m) for m in messages]
    assert kinds == ["join", "join", None, None, None, "leave", "leave"]
    assert db.session.scalar(select(func.count()).select_from(Consultation)) == 1
    outbox = Path(app.config["MAIL_OUTBOX"])
    assert (
        not any("surrender arrangements" in p.read_text() for p in outbox.glob("*.eml"))
        if outbox.exists()
        else True
    )
