"""Scheduler cadences: spread, biweekly and monthly, next_send, and validating the inputs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from scheduler.calendar.localtime import (
    BIWEEKLY_EPOCH,
    Availability,
    Cadence,
    ScheduleError,
    next_send,
    plan,
    resolve_timezone,
)
from tests.support.localtime import BERLIN, NEW_YORK, SYDNEY, local, utc

# --------------------------------------------------------------------------- spread


SPREAD = Cadence.parse("weekly", "tue", "09:00", spread="09:00-17:00")


def test_spread_is_deterministic_and_inside_the_window() -> None:
    av = Availability(BERLIN)
    window = (utc(2026, 1, 1), utc(2027, 1, 1))
    first = plan(SPREAD, av, *window, seed="program-1:person-7")
    again = plan(SPREAD, av, *window, seed="program-1:person-7")  # e.g. after a restart
    assert first == again
    for send in first:
        assert send.reasons == () and send.skipped is None
        assert time(9, 0) <= send.local.time() < time(17, 0)
        assert send.local.second == 0
    # Spread over the window: not all the same minute every week.
    assert len({s.local.time() for s in first}) > 10


def test_spread_differs_between_seeds() -> None:
    day = date(2026, 6, 2)
    picks = {SPREAD.wall_time(day, f"program-1:person-{n}") for n in range(20)}
    assert len(picks) > 1
    assert all(time(9, 0) <= t < time(17, 0) for t in picks)
    assert SPREAD.wall_time(day, "a") == SPREAD.wall_time(day, "a")


def test_spread_instant_is_stable_through_next_send() -> None:
    av = Availability(SYDNEY)
    after = utc(2026, 6, 1)
    a = next_send(SPREAD, av, after, seed="p:1")
    b = next_send(SPREAD, av, after, seed="p:1")
    assert a is not None and a == b
    assert a.local.weekday() == 1


# --------------------------------------------------------------------------- frequencies


def test_biweekly_with_anchor() -> None:
    cadence = Cadence.parse("biweekly", "mon", "10:00", anchor="2026-01-07")  # week of 5 Jan
    sends = plan(cadence, Availability(BERLIN), utc(2026, 1, 1), utc(2026, 3, 1))
    assert [s.nominal_day for s in sends] == [
        date(2026, 1, 5),
        date(2026, 1, 19),
        date(2026, 2, 2),
        date(2026, 2, 16),
    ]
    before = plan(cadence, Availability(BERLIN), utc(2025, 12, 1), utc(2026, 1, 1))
    assert [s.nominal_day for s in before] == [date(2025, 12, 8), date(2025, 12, 22)]


def test_biweekly_default_epoch_is_stable() -> None:
    assert BIWEEKLY_EPOCH.weekday() == 0
    cadence = Cadence.parse("biweekly", "thu", "10:00")
    sends = plan(cadence, Availability(BERLIN), utc(2026, 1, 1), utc(2026, 5, 1))
    days = [s.nominal_day for s in sends]
    assert all((b - a).days == 14 for a, b in pairwise(days))
    assert all(((d - BIWEEKLY_EPOCH).days // 7) % 2 == 0 for d in days)


def test_monthly_is_first_weekday_of_month() -> None:
    cadence = Cadence.parse("monthly", "tue", "10:00")
    sends = plan(cadence, Availability(NEW_YORK), utc(2026, 1, 1), utc(2026, 7, 1))
    assert [s.nominal_day for s in sends] == [
        date(2026, 1, 6),
        date(2026, 2, 3),
        date(2026, 3, 3),
        date(2026, 4, 7),
        date(2026, 5, 5),
        date(2026, 6, 2),
    ]
    assert all(s.local.time() == time(10, 0) for s in sends)


# --------------------------------------------------------------------------- next_send


def test_next_send_is_strictly_after() -> None:
    cadence = Cadence.parse("weekly", "mon", "10:00")
    av = Availability(BERLIN)
    at = local(BERLIN, 2026, 6, 8, 10, 0)
    first = next_send(cadence, av, at - timedelta(seconds=1))
    assert first is not None and first.utc == at
    second = next_send(cadence, av, at)
    assert second is not None and second.local == local(BERLIN, 2026, 6, 15, 10, 0)


def test_next_send_finds_an_earlier_occurrence_moved_past_after() -> None:
    cadence = Cadence.parse("weekly", "sat", "10:00")
    found = next_send(cadence, Availability(BERLIN), local(BERLIN, 2026, 6, 7, 12, 0))  # Sunday
    assert found is not None
    assert found.nominal_day == date(2026, 6, 6)
    assert found.local == local(BERLIN, 2026, 6, 8, 10, 0)


def test_next_send_none_when_everything_is_skipped() -> None:
    av = Availability(BERLIN, leave=((date(2026, 1, 1), date(2028, 1, 1)),))
    assert next_send(Cadence.parse("weekly", "mon", "10:00"), av, utc(2026, 1, 1)) is None


def test_plan_refuses_naive_datetimes_and_empty_windows() -> None:
    cadence = Cadence.parse("weekly", "mon", "10:00")
    with pytest.raises(ScheduleError, match="timezone-aware"):
        plan(cadence, Availability(BERLIN), datetime(2026, 1, 1), utc(2026, 2, 1))
    assert plan(cadence, Availability(BERLIN), utc(2026, 2, 1), utc(2026, 1, 1)) == []


# --------------------------------------------------------------------------- validation


def test_cadence_parse_accepts_names_and_strings() -> None:
    cadence = Cadence.parse(" Weekly ", "Monday", "9:05", spread=("09:00", time(17, 0)))
    assert cadence == Cadence("weekly", 0, time(9, 5), None, (time(9, 0), time(17, 0)))
    assert Cadence.parse("monthly", "6", "23:59").weekday == 6
    assert Cadence.parse("biweekly", "fri", "08:00", anchor=date(2026, 1, 2)).anchor == date(
        2026, 1, 2
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weekday": 7}, "weekday must be 0..6 or mon..sun"),
        ({"weekday": "someday"}, "weekday must be 0..6 or mon..sun"),
        ({"weekday": True}, "weekday must be 0..6 or mon..sun"),
        ({"at": "9am"}, "at must be HH:MM"),
        ({"at": "24:00"}, "at must be HH:MM"),
        ({"at": "12:60"}, "at must be HH:MM"),
        ({"frequency": "daily"}, "frequency must be one of weekly, biweekly, monthly"),
        ({"anchor": "next week"}, "anchor must be a date"),
        ({"spread": "17:00-09:00"}, "spread must be a window"),
        ({"spread": "09:00"}, "spread must be a window"),
    ],
)
def test_cadence_parse_errors(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"frequency": "weekly", "weekday": "mon", "at": "09:00"}
    args.update(kwargs)
    with pytest.raises(ScheduleError, match=message):
        Cadence.parse(**args)  # type: ignore[arg-type]


def test_cadence_constructor_validates_too() -> None:
    with pytest.raises(ScheduleError, match="weekday"):
        Cadence("weekly", -1, time(9, 0))
    with pytest.raises(ScheduleError, match="at must be HH:MM"):
        Cadence("weekly", 0, "09:00")  # type: ignore[arg-type]
    with pytest.raises(ScheduleError, match="must not carry a time zone"):
        Cadence("weekly", 0, time(9, 0, tzinfo=UTC))
    with pytest.raises(ScheduleError, match="anchor must be a date"):
        Cadence("biweekly", 0, time(9, 0), anchor=datetime(2026, 1, 5, tzinfo=UTC))


def test_resolve_timezone_falls_back_person_team_workspace() -> None:
    assert resolve_timezone("Asia/Tokyo", "Europe/Berlin", "UTC") == ZoneInfo("Asia/Tokyo")
    assert resolve_timezone(None, "Europe/Berlin", "UTC") == BERLIN
    assert resolve_timezone("", "  ", "America/New_York") == NEW_YORK
    with pytest.raises(ScheduleError, match="no time zone set"):
        resolve_timezone(None, None, None)
    with pytest.raises(ScheduleError, match="person time zone 'Mars/Olympus' is not a known IANA"):
        resolve_timezone("Mars/Olympus", "Europe/Berlin", None)
    with pytest.raises(ScheduleError, match="team time zone"):
        resolve_timezone(None, "../etc/passwd", None)


def test_availability_validation() -> None:
    with pytest.raises(ScheduleError, match="work_days"):
        Availability(BERLIN, work_days=frozenset())
    with pytest.raises(ScheduleError, match="work_days"):
        Availability(BERLIN, work_days=frozenset({7}))
    with pytest.raises(ScheduleError, match="work_end must be after work_start"):
        Availability(BERLIN, work_start=time(18, 0), work_end=time(9, 0))
    with pytest.raises(ScheduleError, match="both work_start and work_end"):
        Availability(BERLIN, work_start=None)
    with pytest.raises(ScheduleError, match="entirely inside quiet hours"):
        Availability(BERLIN, quiet_start=time(8, 0), quiet_end=time(20, 0))
    with pytest.raises(ScheduleError, match="leave range ends before"):
        Availability(BERLIN, leave=((date(2026, 2, 1), date(2026, 1, 1)),))
    with pytest.raises(ScheduleError, match="timezone-aware"):
        Availability(BERLIN, snoozed_until=datetime(2026, 1, 1))
    with pytest.raises(ScheduleError, match="ZoneInfo"):
        Availability("Europe/Berlin")  # type: ignore[arg-type]
