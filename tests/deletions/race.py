"""Cancel, pause and undo fired at the send of a chunk, ±150 ms, through the web and the API:
what was answered, what was recorded and what the sandbox received must agree.

One shot: a deletion of two chunks (one operation in flight at a time, so one chunk is sent);
the dispatcher sends at T in one thread, the action is posted at T + offset in another. Then:
- an answer that took the deletion back without saying "1 chunk was already being sent" means
  no DELETE reached the sandbox after it (an undo: none at all);
- the images the sandbox deleted are exactly those of the chunks recorded as sent, and every
  image recorded "not sent" is still there.

Used by tests/deletions/test_race.py (a few shots each) and bench/lifecycle.py --race (many).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import update

from wesog_dash import deletions
from wesog_dash.extensions import db
from wesog_dash.models import FINAL_DELETION_STATES, DeletionRequest, utcnow
from wesog_dash.sandbox import SandboxServer

ACTIONS = ("cancel", "pause", "undo")
CHANNELS = ("web", "api")
IN_FLIGHT = "1 chunk was already being sent"


@dataclass
class Shot:
    """One action fired at one send, and what each side says happened."""

    action: str
    channel: str
    offset_ms: float
    ok: bool = False
    answer: str = ""
    deletes_after_answer: int = 0
    deletes: int = 0
    recorded_sent: set[str] = field(default_factory=set)
    received: set[str] = field(default_factory=set)
    not_sent_but_gone: set[str] = field(default_factory=set)

    def differences(self) -> list[str]:
        """Where answered, recorded and received disagree (empty: they agree)."""
        found = []
        took_back = self.ok and IN_FLIGHT not in self.answer and self.action != "undo"
        if took_back and self.deletes_after_answer:
            found.append(f"answered {self.answer!r}, then {self.deletes_after_answer} DELETE")
        if self.ok and self.action == "undo" and self.deletes:
            found.append(f"undone, yet {self.deletes} DELETE reached the API")
        if self.ok and IN_FLIGHT in self.answer and not self.recorded_sent:
            found.append("said a chunk was being sent, none is recorded")
        if self.recorded_sent != self.received:
            found.append(f"recorded {len(self.recorded_sent)} sent, {len(self.received)} gone")
        if self.not_sent_but_gone:
            found.append(f"'not sent' yet gone upstream: {sorted(self.not_sent_but_gone)}")
        return found

    @property
    def outcome(self) -> str:
        """The row of the race table this shot adds to."""
        if not self.ok:
            return "refused"
        return "in flight" if IN_FLIGHT in self.answer else "taken back"


class Race:
    """Fires shots at one app, sandbox and poller; `post(channel, path)` calls the web or API."""

    def __init__(
        self, app: Flask, sandbox: SandboxServer, poller: Any, post: Any, seed: int = 7
    ) -> None:
        self.app, self.sandbox, self.poller, self.post = app, sandbox, poller, post
        self.random = random.Random(seed)
        self.next_id = 100001

    def _deletes(self) -> int:
        stats = self.sandbox.state.stats
        return stats["DELETE /imgs"] + stats["DELETE /imgs/{image_id}"]

    def _deletion(self, ids: list[str], undo: bool) -> int:
        with self.app.app_context():
            deletion = deletions.request_deletion(
                ids,
                deletions.DeletionOptions("race", undo_seconds=60 if undo else 0),
                deletions.Requester("racer"),
                kind="list",
                send_inline=False,
            )
            return deletion.id

    def shot(self, action: str, channel: str) -> Shot:
        """One race; the shot with what each side says."""
        ids = [str(self.next_id + n) for n in range(8)]
        self.next_id += 8
        deletion_id = self._deletion(ids, action == "undo")
        shot = Shot(action, channel, self.random.uniform(-150, 150))
        at = time.monotonic() + 0.2
        if action == "undo":  # the window ends at the moment of the send
            with self.app.app_context():
                moment = utcnow() + timedelta(seconds=0.2)
                db.session.execute(
                    update(DeletionRequest)
                    .where(DeletionRequest.id == deletion_id)
                    .values(send_at=moment, next_attempt_at=moment)
                )
                db.session.commit()
        before = self._deletes()
        sender = threading.Thread(target=self._send, args=(deletion_id, at), daemon=True)
        sender.start()
        _sleep_until(at + shot.offset_ms / 1000)
        shot.ok, shot.answer = self.post(channel, f"/deletions/{deletion_id}/{action}")
        after_answer = self._deletes()
        sender.join(timeout=30)
        self._settle(deletion_id)
        shot.deletes = self._deletes() - before
        shot.deletes_after_answer = self._deletes() - after_answer
        self._read(shot, deletion_id, ids)
        return shot

    def _send(self, deletion_id: int, at: float) -> None:
        _sleep_until(at)
        with self.app.app_context():
            deletions.send(deletion_id)

    def _settle(self, deletion_id: int) -> None:
        """Let the deletion run to its end, or to its pause (the poller's cycles)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.poller.run_once()
            with self.app.app_context():
                deletion = deletions.get_deletion(deletion_id)
                assert deletion is not None
                if deletion.state in (*FINAL_DELETION_STATES, "paused"):
                    return
        raise AssertionError(f"deletion #{deletion_id} did not settle")

    def _read(self, shot: Shot, deletion_id: int, ids: list[str]) -> None:
        shot.received = {i for i in ids if self.sandbox.state.get_image(i) is None}
        with self.app.app_context():
            items = deletions.items_of(deletion_id)
            shot.recorded_sent = {i.image_id for i in items if i.op_id is not None}
            shot.not_sent_but_gone = {
                i.image_id for i in items if i.outcome == "not_sent" and i.image_id in shot.received
            }


def _sleep_until(moment: float) -> None:
    """Fire at `moment` (the race's timing, not a wait for state)."""
    time.sleep(max(0.0, moment - time.monotonic()))


def table(shots: list[Shot]) -> list[tuple[str, str, str, int, int]]:
    """(action, channel, answered, shots, differences): the race table."""
    rows: Counter[tuple[str, str, str]] = Counter()
    wrong: Counter[tuple[str, str, str]] = Counter()
    for shot in shots:
        key = (shot.action, shot.channel, shot.outcome)
        rows[key] += 1
        wrong[key] += bool(shot.differences())
    return [(*key, count, wrong[key]) for key, count in sorted(rows.items())]
