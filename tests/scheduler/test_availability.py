"""Scheduler availability: working and quiet hours, holidays, leave, snooze, next_allowed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from scheduler.calendar.localtime import (
    Availability,
    Cadence,
    PlannedSend,
    next_allowed,
    next_send,
    plan,
)
from tests.support.localtime import BERLIN, NEW_YORK, local, utc


def sent(sends: list[PlannedSend]) -> list[PlannedSend]:
    return [s for s in sends if s.skipped is None]


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
