"""`pulsecoach pulse …` commands (rounds are opened, closed and reported here)."""

from __future__ import annotations

import argparse


def add_pulse_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Pulse commands arrive with the pulse capability."""
