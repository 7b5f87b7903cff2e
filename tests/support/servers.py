"""Real `pulsecoach serve` processes for crash and multi-node tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def organisation(executives: dict[str, int], at: datetime) -> str:
    """One local workspace; per team, `n` executives in UTC who may be messaged any
    time, and a weekly program due on `at`'s weekday and minute."""
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[at.weekday()]
    lines = [
        "workspaces:",
        "  - {key: w, name: W, channel: local, timezone: UTC}",
        "people:",
    ]
    for team, n in executives.items():
        for i in range(n):
            lines.append(
                f"  - {{handle: {team}-{i}, workspace: w, name: P{i}, timezone: UTC, "
                "working_hours: {days: [mon, tue, wed, thu, fri, sat, sun], start: '00:00', "
                "end: '23:59', quiet: off}}"
            )
    lines.append("teams:")
    for team, n in executives.items():
        members = ", ".join(f"{team}-{i}" for i in range(n))
        lines.append(
            f"  - {{key: {team}, workspace: w, name: {team}, members: {{executive: [{members}]}}}}"
        )
    lines.append("programs:")
    for team in executives:
        lines.append(
            f"  - {{key: p, workspace: w, team: {team}, instrument: team_safety, "
            f"cadence: {{weekday: {weekday}, at: '{at:%H:%M}'}}}}"
        )
    return "\n".join(lines) + "\n"


def env(database_url: str, **extra: str) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PULSECOACH_", "SLACK_", "OPENAI_", "MICROSOFT_"))
    }
    return (
        keep
        | {
            "PULSECOACH_DATABASE_URL": database_url,
            "PULSECOACH_LOCAL_CHANNEL": "true",
            "PULSECOACH_LEADER_PROBE_SECONDS": "1",
            "PULSECOACH_DISPATCH_SECONDS": "1",
            "PULSECOACH_SEND_SECONDS": "0.2",
            "PULSECOACH_LOG_LEVEL": "WARNING",
        }
        | extra
    )


def cli(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=environment,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start(environment: dict[str, str], log: Path) -> Server:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "serve", "--port", str(port)],
        env=environment,
        cwd=REPO,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    server = Server(process, port)
    wait_for(server.healthy, 30, f"server on port {port} to start (log: {log})")
    return server


def wait_for(condition: object, seconds: float, what: str) -> float:
    """Poll `condition` until true; returns how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def now_utc() -> datetime:
    return datetime.now(UTC)
