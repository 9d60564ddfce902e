"""`flask wesog watch` in a real terminal (a pty): the bar moves, then the command exits 0."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
from flask import Flask

from wesog_dash import deletions
from wesog_dash.sandbox import SandboxServer, SandboxSettings

ROOT = Path(__file__).resolve().parents[2]
COUNT = 30


@pytest.fixture
def sandbox_settings() -> SandboxSettings:
    """Slow enough (30 × 150 ms) for frames to show after the first poll of a queued op (3 s)."""
    return SandboxSettings(api_key="test-key-5f3a", images=60, item_ms=150, start_ms=0)


def test_watch_draws_a_moving_bar_in_a_terminal(app: Flask, sandbox: SandboxServer) -> None:
    with app.app_context():
        ids = [str(100001 + n) for n in range(COUNT)]
        deletion = deletions.request_deletion(
            ids, deletions.DeletionOptions("pty test"), deletions.Requester("cli:test"), kind="list"
        )
        deletion_id = deletion.id
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "FLASK_APP": "app",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "WESOG_API_URL": sandbox.url,
        "WESOG_API_KEY": sandbox.settings.api_key,
        "WESOG_POLLER": "external",
        "WESOG_POLL_INTERVAL": "0.1",
        "SECRET_KEY": "pty-test",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "flask", "wesog", "watch", str(deletion_id), "--interval", "0.1"],
        cwd=str(ROOT),
        env=env,
        dimensions=(24, 140),
        encoding="utf-8",
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()
    screen = child.before
    goods = [int(n) for n in re.findall(rf"(\d+) good / 0 failed / {COUNT} total", screen)]
    assert child.exitstatus == 0, screen[-2000:]
    assert goods and goods[-1] == COUNT, screen[-2000:]
    # Frames before, during and after: 0 (or a first count), at least one count on the way, 30.
    moving = sorted({n for n in goods if 0 < n < COUNT})
    assert moving and len(set(goods)) >= 3, f"the bar did not move: {sorted(set(goods))}"
    assert goods == sorted(goods)  # never backwards
    assert "ETA" in screen and "/s" in screen
    assert "\x1b[" in screen  # drawn with terminal control sequences, not plain lines
    assert "done: the Wesog API finished it" in screen
