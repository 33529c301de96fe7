"""`sets sla-check --now` reproduces the P1 timeline on a fresh SQLite database."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

LINE = re.compile(
    r"sla sweep: (\d+) tickets examined, (\d+) warned, (\d+) breached, (\d+) escalated; "
    r"(\d+) auto-closed"
)


def sets(db: Path, *args: str) -> str:
    env = {**os.environ, "SETS_DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    done = subprocess.run(
        [sys.executable, "-m", "sets.cli", *args],
        env=env,
        cwd=db.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def p1_state(db: Path) -> tuple[str, int, int, str]:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT t.created_at, t.resolution_warned, t.escalation_level, teams.name "
            "FROM tickets t JOIN teams ON teams.id = t.team_id WHERE t.priority = 'P1'"
        ).fetchone()
    return row[0], row[1], row[2], row[3]


def test_sla_check_walks_the_p1_timeline(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    sets(db, "demo")
    created_text, *_ = p1_state(db)
    created = datetime.fromisoformat(created_text)

    def check(hours: float) -> tuple[int, ...]:
        moment = (created + timedelta(hours=hours)).isoformat() + "Z"
        match = LINE.search(sets(db, "sla-check", "--now", moment))
        assert match, "no summary line"
        return tuple(int(n) for n in match.groups())

    check(1.5)
    assert p1_state(db)[1:] == (1, 0, "Service Desk")
    examined, _warned, breached, escalated, _closed = check(2)
    assert examined >= 1 and breached >= 1 and escalated >= 1
    assert p1_state(db)[2:] == (1, "Service Desk")
    check(3)
    assert p1_state(db)[2:] == (2, "Senior Support")
    check(4)
    assert p1_state(db)[2] == 3
    assert check(4)[0] == 0  # nothing left to do at that moment


def test_sla_check_rejects_a_bad_time(tmp_path: Path) -> None:
    env = {**os.environ, "SETS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "sets.cli", "sla-check", "--now", "tomorrow"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "ISO time" in done.stderr
