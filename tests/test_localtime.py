"""The pure time logic of the scheduler: cadences, availability, DST, and the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scheduler.clock import Clock, FakeClock, SystemClock
from scheduler.localtime import (
    BIWEEKLY_EPOCH,
    Availability,
    Cadence,
    PlannedSend,
    ScheduleError,
    local_instant,
    next_allowed,
    next_send,
    plan,
    resolve_timezone,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=tz)


def sent(sends: list[PlannedSend]) -> list[PlannedSend]:
    return [s for s in sends if s.skipped is None]


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


# --------------------------------------------------------------------------- availability


def only(cadence: Cadence, av: Availability, start: datetime, end: datetime) -> PlannedSend:
    sends = plan(cadence, av, start, end)
    assert len(sends) == 1, sends
    return sends[0]


def test_saturday_cadence_moves_to_monday_same_time() -> None:
    send = only(
        Cadence.parse("weekly", "sat", "10:00"),
        Availability(BERLIN),
        utc(2026, 6, 1),
        utc(2026, 6, 8),
    )
    assert send.nominal_day == date(2026, 6, 6)
    assert send.local == local(BERLIN, 2026, 6, 8, 10, 0)
    assert send.reasons == ("non-working day",)
    assert send.skipped is None


def test_evening_send_moves_to_next_morning_work_start() -> None:
    av = Availability(BERLIN)
    monday = only(Cadence.parse("weekly", "mon", "21:00"), av, utc(2026, 6, 1), utc(2026, 6, 8))
    assert monday.local == local(BERLIN, 2026, 6, 2, 9, 0)
    assert monday.reasons == ("quiet hours",)

    friday = only(Cadence.parse("weekly", "fri", "21:00"), av, utc(2026, 6, 1), utc(2026, 6, 8))
    assert friday.local == local(BERLIN, 2026, 6, 8, 9, 0)  # never on the weekend
    assert friday.reasons == ("quiet hours", "non-working day")

    early = only(Cadence.parse("weekly", "tue", "07:00"), av, utc(2026, 6, 1), utc(2026, 6, 8))
    assert early.local == local(BERLIN, 2026, 6, 2, 9, 0)
    assert early.reasons == ("quiet hours",)

    after_work = only(Cadence.parse("weekly", "wed", "18:30"), av, utc(2026, 6, 1), utc(2026, 6, 8))
    assert after_work.local == local(BERLIN, 2026, 6, 4, 9, 0)
    assert after_work.reasons == ("outside working hours",)


def test_quiet_hours_without_working_hours() -> None:
    av = Availability(
        NEW_YORK, work_days=frozenset(range(7)), work_start=None, work_end=None
    )  # only the default quiet hours 20:00-08:00 apply
    send = only(Cadence.parse("weekly", "sun", "23:15"), av, utc(2026, 6, 2), utc(2026, 6, 9))
    assert send.local == local(NEW_YORK, 2026, 6, 8, 8, 0)
    assert send.reasons == ("quiet hours",)


def test_holiday_moves_to_next_working_day_at_cadence_time() -> None:
    av = Availability(BERLIN, holidays=frozenset({date(2026, 12, 25)}))
    send = only(Cadence.parse("weekly", "fri", "10:00"), av, utc(2026, 12, 21), utc(2026, 12, 28))
    assert send.nominal_day == date(2026, 12, 25)
    assert send.local == local(BERLIN, 2026, 12, 28, 10, 0)
    assert send.reasons == ("holiday 2026-12-25", "non-working day")


def test_move_onto_the_next_occurrence_is_skipped_not_doubled() -> None:
    holiday_week = frozenset(date(2026, 12, 21) + timedelta(days=n) for n in range(5))
    av = Availability(BERLIN, holidays=holiday_week)
    sends = plan(Cadence.parse("weekly", "mon", "10:00"), av, utc(2026, 12, 14), utc(2027, 1, 5))
    assert [s.nominal_day for s in sends] == [
        date(2026, 12, 14),
        date(2026, 12, 21),
        date(2026, 12, 28),
        date(2027, 1, 4),
    ]
    assert sends[1].skipped is not None and "superseded" in sends[1].skipped
    assert [s.local.date() for s in sent(sends)] == [
        date(2026, 12, 14),
        date(2026, 12, 28),
        date(2027, 1, 4),
    ]


def test_leave_skips_occurrences() -> None:
    av = Availability(BERLIN, leave=((date(2026, 7, 6), date(2026, 7, 17)),))
    sends = plan(Cadence.parse("weekly", "mon", "10:00"), av, utc(2026, 6, 29), utc(2026, 7, 27))
    assert [s.nominal_day.day for s in sends] == [29, 6, 13, 20]
    assert [s.skipped for s in sends] == [
        None,
        "on leave 2026-07-06..2026-07-17",
        "on leave 2026-07-06..2026-07-17",
        None,
    ]
    # A move onto a leave day also skips: Saturday's send would land on the first leave day.
    saturday = only(Cadence.parse("weekly", "sat", "10:00"), av, utc(2026, 7, 4), utc(2026, 7, 5))
    assert saturday.skipped == "on leave 2026-07-06..2026-07-17"


def test_snooze_skips_until_it_ends() -> None:
    av = Availability(BERLIN, snoozed_until=local(BERLIN, 2026, 6, 16, 12, 0))
    cadence = Cadence.parse("weekly", "mon", "10:00")
    sends = plan(cadence, av, utc(2026, 6, 1), utc(2026, 6, 23))
    assert [s.skipped is None for s in sends] == [False, False, False, True]
    assert sends[0].skipped is not None and sends[0].skipped.startswith("snoozed until 2026-06-16")
    found = next_send(cadence, av, utc(2026, 6, 1))
    assert found is not None and found.local == local(BERLIN, 2026, 6, 22, 10, 0)
    # An occurrence that only moves past the snooze end is sent.
    morning = Availability(BERLIN, snoozed_until=local(BERLIN, 2026, 6, 8, 9, 30))
    weekend = only(
        Cadence.parse("weekly", "sat", "10:00"), morning, utc(2026, 6, 6), utc(2026, 6, 7)
    )
    assert weekend.skipped is None and weekend.local == local(BERLIN, 2026, 6, 8, 10, 0)


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


# --------------------------------------------------------------------------- next_allowed


def test_next_allowed_keeps_an_allowed_instant() -> None:
    when = local(BERLIN, 2026, 6, 9, 11, 17, 5)
    assert next_allowed(when, Availability(BERLIN)) == (when.astimezone(UTC), [])


def test_next_allowed_moves_night_and_weekend_to_work_start() -> None:
    av = Availability(BERLIN)
    moved, reasons = next_allowed(local(BERLIN, 2026, 6, 9, 22, 0), av)
    assert moved == local(BERLIN, 2026, 6, 10, 9, 0)
    assert reasons == ["quiet hours"]
    moved, reasons = next_allowed(local(BERLIN, 2026, 6, 13, 11, 0), av)  # Saturday
    assert moved == local(BERLIN, 2026, 6, 15, 9, 0)
    assert reasons == ["non-working day"]


def test_next_allowed_waits_for_snooze_and_leave() -> None:
    av = Availability(
        BERLIN,
        snoozed_until=local(BERLIN, 2026, 6, 10, 21, 0),
        leave=((date(2026, 6, 11), date(2026, 6, 12)),),
    )
    moved, reasons = next_allowed(local(BERLIN, 2026, 6, 9, 10, 0), av)
    assert moved == local(BERLIN, 2026, 6, 15, 9, 0)
    assert reasons[0].startswith("snoozed until 2026-06-10 21:00")
    assert reasons[1:] == ["quiet hours", "on leave 2026-06-11..2026-06-12", "non-working day"]


def test_next_allowed_never_goes_back_inside_an_autumn_fold() -> None:
    av = Availability(
        NEW_YORK,
        work_days=frozenset(range(7)),
        work_start=time(1, 45),
        work_end=time(18, 0),
        quiet_start=None,
        quiet_end=None,
    )
    second_0130 = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1)  # 06:30 UTC
    moved, _ = next_allowed(second_0130, av)
    assert moved == utc(2026, 11, 1, 6, 45)
    assert moved > second_0130


def test_next_allowed_across_spring_gap() -> None:
    av = Availability(
        BERLIN,
        work_days=frozenset(range(7)),
        work_start=time(2, 30),
        work_end=time(18, 0),
        quiet_start=None,
        quiet_end=None,
    )
    moved, reasons = next_allowed(local(BERLIN, 2026, 3, 29, 1, 0), av)
    assert moved.astimezone(BERLIN).time() == time(3, 30)
    assert reasons[0] == "outside working hours"
    assert reasons[1].startswith("dst-gap")


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
