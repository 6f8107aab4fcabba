"""The plan the engine works on: jobs, crews and their periods, visits — in whole minutes.

Times are integer minutes since ``EPOCH`` (UTC) so that the inner loops of the engine stay
cheap; the handlers convert at the edges: a start rounds up, a deadline down (ADR 0085).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from jobstream.contracts.dispatch import DriveHome as DriveHome  # re-exported: the engine names it
from jobstream.dispatch.domain.qualification import disqualification
from jobstream.dispatch.domain.travel import Place

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def to_minutes(moment: datetime) -> int:
    """Whole minutes since EPOCH, rounded up: a plan never starts before the real moment."""
    seconds = (moment - EPOCH).total_seconds()
    whole = int(seconds // 60)
    return whole + (1 if seconds > whole * 60 else 0)


def to_deadline_minutes(moment: datetime) -> int:
    """Whole minutes since EPOCH, rounded down: a deadline never moves later."""
    return int((moment - EPOCH).total_seconds() // 60)


def to_datetime(minutes: int) -> datetime:
    """The UTC moment ``minutes`` after EPOCH."""
    return EPOCH + timedelta(minutes=minutes)


PRIORITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job as the engine sees it."""

    job_id: str
    place: Place
    site_id: str
    duration: int
    priority: int
    release: int
    respond_by: int
    resolve_by: int
    window: tuple[int, int] | None = None
    skills: frozenset[str] = frozenset()
    certifications: frozenset[str] = frozenset()
    respond_by_is_hard: bool = False

    def earliest_start(self) -> int:
        """Not before release nor before the customer's window opens."""
        return max(self.release, self.window[0]) if self.window else self.release

    def latest_end(self, deadline_is_hard: bool = True) -> int:
        """By the window's close and (for the engine) by the resolve-by deadline."""
        bound = self.resolve_by if deadline_is_hard else 10**12
        return min(bound, self.window[1]) if self.window else bound

    def latest_start(self) -> int | None:
        """The respond-by when the business makes it hard for this job (None: weighed only)."""
        return self.respond_by if self.respond_by_is_hard else None


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of one technician's working time; work may run into ``overtime_end``."""

    start: int
    end: int
    overtime_end: int
    local_date: date
    start_place: Place


@dataclass(frozen=True)
class Crew:
    """A technician as the engine sees them.

    ``home`` is where every working period ends (and, but for a live location, starts);
    ``absences`` are the (start, end) minutes they cannot work, already cut out of
    ``periods`` and kept so that the evaluator can check them on their own.
    """

    technician_id: str
    home: Place
    skills: frozenset[str]
    certifications: Mapping[str, date]
    periods: tuple[Period, ...]
    drive_home: DriveHome = DriveHome.IN_OVERTIME
    time_zone: str = "UTC"
    absences: tuple[tuple[int, int], ...] = ()

    def home_by(self, period: Period) -> int | None:
        """When the technician must be back home after ``period`` (None: not counted)."""
        match self.drive_home:
            case DriveHome.IN_SHIFT:
                return period.end
            case DriveHome.IN_OVERTIME:
                return period.overtime_end
            case _:
                return None

    def local_date(self, moment: int) -> date:
        """The technician's calendar day at plan minute ``moment``."""
        return to_datetime(moment).astimezone(ZoneInfo(self.time_zone)).date()

    def period_at(self, start: int) -> Period | None:
        """The working period a visit starting at ``start`` belongs to (overtime included)."""
        return next((p for p in self.periods if p.start <= start < p.overtime_end), None)

    def disqualification(self, job: JobSpec, on: date) -> str | None:
        """Why this technician may not do ``job`` on ``on`` (None: they may)."""
        return disqualification(
            self.skills, self.certifications, job.skills, job.certifications, on
        )


@dataclass(frozen=True, slots=True)
class Visit:
    """A job placed on a technician's timeline; ``frozen`` visits are never moved."""

    job_id: str
    technician_id: str
    start: int
    end: int
    frozen: bool = False
    forced: bool = False


@dataclass
class Plan:
    """Who does what when: visits per technician, sorted by start."""

    jobs: dict[str, JobSpec]
    crews: dict[str, Crew]
    routes: dict[str, list[Visit]] = field(default_factory=dict)
    now: int = 0

    def route(self, technician_id: str) -> list[Visit]:
        """The technician's visits, sorted by start."""
        return self.routes.setdefault(technician_id, [])

    def visit_of(self, job_id: str) -> Visit | None:
        """Where the job is placed, if anywhere."""
        for visits in self.routes.values():
            for v in visits:
                if v.job_id == job_id:
                    return v
        return None

    def remove(self, job_id: str) -> Visit | None:
        """Take the job off its technician's timeline."""
        for visits in self.routes.values():
            for i, v in enumerate(visits):
                if v.job_id == job_id:
                    del visits[i]
                    return v
        return None

    def put(self, visit: Visit) -> None:
        """Place a visit on its technician's timeline."""
        route = self.route(visit.technician_id)
        route.append(visit)
        route.sort(key=lambda v: (v.start, v.job_id))

    def copy(self) -> Plan:
        """A copy whose routes may be changed without touching this plan."""
        return Plan(self.jobs, self.crews, {k: list(v) for k, v in self.routes.items()}, self.now)
