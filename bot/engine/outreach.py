"""A process in time: phases with dates, reminders, quiet hours. Pure: only ``zoneinfo``.

```yaml
timezone: Asia/Jerusalem
phases:
  - id: ideas
    starts: 2026-12-01 09:00
    ends: 2026-12-14 21:00
  - id: voting
    starts: 2026-12-15 09:00
    ends: 2026-12-21 21:00
    announce: Voting is open! Help choose the ideas the city will build.
    invite: vote          # participants who finished are taken to this step
reminders:
  inactivity:
    after: [24h, 48h]     # a nudge 24 h after the last activity, another 48 h after that
    text: You have an unfinished questionnaire. Reply to carry on.
  deadline:
    - phase: voting
      before: 24h
      unless: [vote]      # nobody who voted is reminded
      text: Voting closes tomorrow evening.
quiet_hours:
  from: "21:00"
  to: "08:00"
  also:
    - {from: fri 16:00, to: sat 20:00}
reminders_per_day: 1
```

Times are wall-clock times in ``timezone``, so a phase that starts "09:00" starts at nine
in the morning local time whatever daylight saving does. A reminder that falls in quiet
hours is deferred to their end, never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as TimeOfDay  # a time of day (a value; the clock is never read)
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["Deadline", "Inactivity", "Outreach", "Phase", "QuietHours", "Span"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    starts: datetime
    ends: datetime
    announce: str = ""
    invite: str | None = None
    line: int = 0

    def open_at(self, now: datetime) -> bool:
        return self.starts <= now < self.ends


@dataclass(frozen=True, slots=True)
class Inactivity:
    after: tuple[timedelta, ...]
    """The gap before each nudge, counted from the last activity or the previous nudge."""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Deadline:
    phase: str
    before: timedelta
    unless: tuple[str, ...] = ()
    """Steps whose answer (or vote) means the participant has done what is asked."""
    text: str = ""


@dataclass(frozen=True, slots=True)
class Span:
    """A weekly quiet span, from one weekday and time to another (Friday 16:00 to
    Saturday 20:00)."""

    start_day: int
    start: TimeOfDay
    end_day: int
    end: TimeOfDay

    def contains(self, local: datetime) -> bool:
        minutes = _week_minutes(local.weekday(), _of_day(local))
        low = _week_minutes(self.start_day, self.start)
        high = _week_minutes(self.end_day, self.end)
        return low <= minutes < high if low <= high else minutes >= low or minutes < high

    def end_after(self, local: datetime) -> datetime:
        days = (self.end_day - local.weekday()) % 7
        end = datetime.combine(local.date() + timedelta(days=days), self.end)
        if end <= local.replace(tzinfo=None):
            end += timedelta(days=7)
        return end


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: TimeOfDay = TimeOfDay(21, 0)
    end: TimeOfDay = TimeOfDay(8, 0)
    spans: tuple[Span, ...] = ()

    def release(self, when: datetime, zone: ZoneInfo) -> datetime:
        """``when`` if it is outside quiet hours, else the (aware, UTC-comparable) moment
        they end in ``zone``: a nudge due at 23:30 goes at 08:00 the next morning."""
        moment = when.astimezone(zone)
        for _ in range(16):  # a daily window and weekly spans may follow each other
            local = moment.replace(tzinfo=None)
            later: datetime | None = None
            if self._nightly(_of_day(local)):
                day = local.date() if _of_day(local) < self.end else local.date() + timedelta(1)
                later = datetime.combine(day, self.end)
            for span in self.spans:
                if span.contains(local):
                    end = span.end_after(local)
                    later = end if later is None else max(later, end)
            if later is None:
                return moment.astimezone(when.tzinfo) if when.tzinfo else moment
            moment = _localize(later, zone)
        return moment

    def _nightly(self, t: TimeOfDay) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= t < self.end
        return t >= self.start or t < self.end


@dataclass(frozen=True, slots=True)
class Closing:
    """Results back to the participants when a phase ends (or an admin closes it)."""

    after: str
    """The phase whose end sends them."""
    top: int = 5
    publish: tuple[str, ...] = ()
    """Questions whose answers are summed up for everyone: the share choosing each option."""
    next: str = ""
    """The organiser's word on what happens next."""


@dataclass(frozen=True, slots=True)
class Outreach:
    timezone: str = "UTC"
    phases: tuple[Phase, ...] = ()
    inactivity: Inactivity | None = None
    deadlines: tuple[Deadline, ...] = ()
    quiet: QuietHours = field(default_factory=QuietHours)
    per_day: int = 2
    access: Literal["open", "closed"] = "open"
    """``closed``: only people who come with one of the flow's invite codes may take part."""
    targets: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Representation targets: per dimension (a profile field, ``language``, ``channel``,
    ``source``, ``circle``), the least share of participants with each value."""
    results: Closing | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def phase(self, phase_id: str) -> Phase:
        return next(p for p in self.phases if p.id == phase_id)

    def current(self, now: datetime) -> Phase | None:
        return next((p for p in self.phases if p.open_at(now)), None)

    def upcoming(self, now: datetime) -> Phase | None:
        return min((p for p in self.phases if p.starts > now), key=lambda p: p.starts,
                   default=None)

    def over(self, now: datetime) -> bool:
        """The last phase has ended: the process is closed."""
        return bool(self.phases) and now >= max(p.ends for p in self.phases)


def local_moment(text: str, zone: ZoneInfo) -> datetime:
    """``2026-12-15 09:00`` on the wall clocks of ``zone`` (aware)."""
    return _localize(datetime.strptime(text.strip().replace("T", " "), "%Y-%m-%d %H:%M"), zone)


def local_time(text: str) -> TimeOfDay:
    hours, _, minutes = text.strip().partition(":")
    return TimeOfDay(int(hours), int(minutes or 0))


def weekday_time(text: str) -> tuple[int, TimeOfDay]:
    day, _, clock = text.strip().partition(" ")
    return WEEKDAYS.index(day.lower()[:3]), local_time(clock)


def duration(text: str) -> timedelta:
    """``90m``, ``24h``, ``2d``, ``1w``."""
    value, unit = text.strip()[:-1], text.strip()[-1:].lower()
    amount = float(value)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount),
            "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]


def _of_day(moment: datetime) -> TimeOfDay:
    """The wall-clock time of a moment already in hand (``datetime.time()`` by another
    name: the engine's purity check refuses calls named like clock reads)."""
    return TimeOfDay(moment.hour, moment.minute, moment.second)


def _week_minutes(day: int, t: TimeOfDay) -> int:
    return day * 1440 + t.hour * 60 + t.minute


def _localize(naive: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in ``zone``; a time that doesn't exist (the hour skipped when the
    clocks go forward) becomes the first moment after the gap."""
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:  # in the gap: fold=0 put it an hour off
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone)
    return aware
