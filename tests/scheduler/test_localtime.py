"""Scheduler time logic: the clock, local instants, DST gaps and folds, one send a week."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scheduler.calendar.clock import Clock, SystemClock
from scheduler.calendar.localtime import Availability, Cadence, PlannedSend, local_instant, plan
from tests.support.clock import FakeClock
from tests.support.localtime import BERLIN, NEW_YORK, SYDNEY, local, utc


def one_per_iso_week(sends: list[PlannedSend]) -> None:
    weeks = [s.local.isocalendar()[:2] for s in sends]
    assert len(weeks) == len(set(weeks)), weeks


# --------------------------------------------------------------------------- clock


def test_fake_clock_advance_and_set() -> None:
    clock = FakeClock(local(BERLIN, 2026, 3, 29, 1, 0))
    assert isinstance(clock, Clock)
    assert clock.now() == utc(2026, 3, 29, 0, 0)
    assert clock.now().tzinfo is UTC

    assert clock.advance(timedelta(hours=2)) == utc(2026, 3, 29, 2, 0)
    assert clock.now() == utc(2026, 3, 29, 2, 0)

    clock.set(local(NEW_YORK, 2026, 1, 1, 9, 0))
    assert clock.now() == utc(2026, 1, 1, 14, 0)
    assert clock.now().tzinfo is UTC
    clock.set(utc(2025, 1, 1))  # set may go back; advance may not
    assert clock.now() == utc(2025, 1, 1)


def test_fake_clock_refuses_naive_and_backwards() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 1, 1))
    clock = FakeClock(utc(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="non-negative"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() == utc(2026, 1, 1)


def test_system_clock_is_aware_utc() -> None:
    clock: Clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


# --------------------------------------------------------------------------- local_instant


def test_local_instant_plain_gap_and_fold() -> None:
    assert local_instant(date(2026, 3, 1), time(9, 0), BERLIN) == (utc(2026, 3, 1, 8, 0), None)

    moved, reason = local_instant(date(2026, 3, 29), time(2, 30), BERLIN)
    assert moved == utc(2026, 3, 29, 1, 30)
    assert moved.astimezone(BERLIN).time() == time(3, 30)
    assert reason is not None and reason.startswith("dst-gap: 02:30 does not exist")
    assert "03:30" in reason

    first, reason = local_instant(date(2026, 10, 25), time(2, 30), BERLIN)
    assert first == utc(2026, 10, 25, 0, 30)  # CEST, UTC+2: the first of the two 02:30s
    assert reason is not None and reason.startswith("dst-fold")


# --------------------------------------------------------------------------- DST in isolation


SUNDAY_0230 = Cadence.parse("weekly", "sun", "02:30")


def test_berlin_spring_forward_one_send_per_week_on_sunday() -> None:
    around = plan(SUNDAY_0230, Availability.anytime(BERLIN), utc(2026, 3, 1), utc(2026, 4, 26))
    assert [s.nominal_day for s in around] == [
        date(2026, 3, 1) + timedelta(weeks=n) for n in range(8)
    ]
    one_per_iso_week(around)
    for send in around:
        assert send.skipped is None
        assert send.local.date() == send.nominal_day
        assert send.local.weekday() == 6
        assert send.utc == send.local.astimezone(UTC)
        if send.nominal_day == date(2026, 3, 29):
            assert send.local.time() == time(3, 30)
            assert send.utc == utc(2026, 3, 29, 1, 30)
            assert len(send.reasons) == 1 and send.reasons[0].startswith("dst-gap")
        else:
            assert send.local.time() == time(2, 30)
            assert send.reasons == ()


def test_berlin_fall_back_fires_once_at_the_first_0230() -> None:
    around = plan(SUNDAY_0230, Availability.anytime(BERLIN), utc(2026, 10, 4), utc(2026, 11, 29))
    assert [s.nominal_day for s in around] == [
        date(2026, 10, 4) + timedelta(weeks=n) for n in range(8)
    ]
    one_per_iso_week(around)
    for send in around:
        assert send.skipped is None
        assert send.local.weekday() == 6 and send.local.time() == time(2, 30)
    change = [s for s in around if s.local.date() == date(2026, 10, 25)]
    assert len(change) == 1
    assert change[0].utc == utc(2026, 10, 25, 0, 30)
    assert change[0].local.utcoffset() == timedelta(hours=2)
    assert change[0].local.fold == 0
    assert any(r.startswith("dst-fold") for r in change[0].reasons)
    # The second 02:30 (01:30 UTC) is not planned.
    assert all(s.utc != utc(2026, 10, 25, 1, 30) for s in around)


def test_gap_before_midnight_stays_on_the_cadence_day() -> None:
    # America/Nuuk springs from Saturday 23:00 straight to Sunday 00:00: moving 23:30 forward
    # would send on Sunday, so it moves back by the gap instead and stays on Saturday.
    nuuk = ZoneInfo("America/Nuuk")
    cadence = Cadence.parse("weekly", "sat", "23:30")
    sends = plan(cadence, Availability.anytime(nuuk), utc(2026, 3, 16), utc(2026, 4, 10))
    assert [s.local.date() for s in sends] == [
        date(2026, 3, 21),
        date(2026, 3, 28),
        date(2026, 4, 4),
    ]
    change = sends[1]
    assert change.local.time() == time(22, 30) and change.local.weekday() == 5
    assert change.reasons[0].startswith("dst-gap: 23:30 does not exist")
    assert "moved back to 22:30" in change.reasons[0]
    assert [s.local.time() for s in (sends[0], sends[2])] == [time(23, 30)] * 2


@pytest.mark.parametrize("tz", [SYDNEY, NEW_YORK], ids=str)
def test_monday_0900_is_0900_local_all_year(tz: ZoneInfo) -> None:
    cadence = Cadence.parse("weekly", "monday", "09:00")
    year = plan(cadence, Availability(tz), utc(2026, 1, 1), utc(2027, 1, 1))
    assert len(year) == 52
    one_per_iso_week(year)
    for send in year:
        assert send.skipped is None and send.reasons == ()
        assert send.local.weekday() == 0
        assert (send.local.hour, send.local.minute) == (9, 0)
    # Both zones change offset during the year, yet the local time never moved.
    assert len({s.local.utcoffset() for s in year}) == 2


def test_sydney_and_new_york_get_different_utc_instants() -> None:
    cadence = Cadence.parse("weekly", 0, time(9, 0))
    window = (utc(2026, 3, 1), utc(2026, 4, 19, 12))  # NY springs forward 8 Mar, Sydney falls 5 Apr
    ny = plan(cadence, Availability(NEW_YORK), *window)
    syd = plan(cadence, Availability(SYDNEY), *window)
    assert [s.nominal_day for s in ny] == [s.nominal_day for s in syd]
    for a, b in zip(ny, syd, strict=True):
        assert a.local.hour == b.local.hour == 9
        assert a.local.utcoffset() != b.local.utcoffset()
        assert a.utc != b.utc
    assert {s.local.utcoffset() for s in ny} == {timedelta(hours=-5), timedelta(hours=-4)}
    assert {s.local.utcoffset() for s in syd} == {timedelta(hours=11), timedelta(hours=10)}
    # The first Monday after each zone's own change is still 09:00 local.
    assert next(s for s in ny if s.nominal_day == date(2026, 3, 9)).utc == utc(2026, 3, 9, 13)
    assert next(s for s in syd if s.nominal_day == date(2026, 4, 6)).utc == utc(2026, 4, 5, 23)


# --------------------------------------------------------------------------- property


ZONES = sorted(
    name for name in available_timezones() if "/" in name and not name.startswith(("Etc/", "posix"))
)


@settings(max_examples=80, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    weekday=st.integers(0, 6),
    at=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
@example(zone="Europe/Berlin", weekday=6, at=time(2, 30))
@example(zone="America/New_York", weekday=6, at=time(1, 30))
@example(zone="Australia/Lord_Howe", weekday=6, at=time(2, 15))
@example(zone="America/Havana", weekday=6, at=time(0, 30))
@example(zone="America/Nuuk", weekday=5, at=time(23, 30))
@example(zone="Pacific/Chatham", weekday=6, at=time(2, 50))
def test_weekly_is_one_send_per_iso_week_on_the_local_weekday(
    zone: str, weekday: int, at: time
) -> None:
    tz = ZoneInfo(zone)
    start, _ = local_instant(date(2026, 1, 5), time(0, 0), tz)  # Monday of ISO week 2026-W02
    end, _ = local_instant(date(2027, 1, 4), time(0, 0), tz)  # Monday of 2027-W01
    sends = plan(Cadence("weekly", weekday, at), Availability.anytime(tz), start, end)

    assert len(sends) == 52
    weeks = {s.local.isocalendar()[:2] for s in sends}
    assert weeks == {(2026, w) for w in range(2, 54)}
    for send in sends:
        assert send.skipped is None
        assert send.local.weekday() == weekday
        assert send.local.date() == send.nominal_day
        if not any(r.startswith("dst-gap") for r in send.reasons):
            assert send.local.time() == at
