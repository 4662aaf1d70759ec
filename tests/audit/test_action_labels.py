"""Every action the code records in the audit log has a readable, translated name: the
log page and its export show it instead of a raw code such as "consultation.end"."""

from __future__ import annotations

import re
from pathlib import Path

from network.services import audit

PACKAGE = Path(audit.__file__).resolve().parents[1]
# audit.record(actor, "x.y", ...), audit.record_channel_event(..., "x.y", ...), and the
# services' own small wrappers that pass the action as a string literal.
RECORDED = re.compile(r"""record(?:_channel_event)?\([^()"]*?["']([a-z_]+\.[a-z_]+)["']""")


def test_every_recorded_action_has_a_label():
    recorded = {
        match.group(1)
        for path in PACKAGE.rglob("*.py")
        for match in RECORDED.finditer(path.read_text(encoding="utf-8"))
    }
    assert len(recorded) > 30  # the scan finds the calls
    missing = sorted(recorded - set(audit._ACTION_LABELS))
    assert missing == [], f"add a label to network/services/audit.py for: {missing}"
