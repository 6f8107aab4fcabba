"""What a customer is told about their request, from intake's work order row."""

from datetime import UTC, datetime

import pytest

from jobstream.web.domain.progress import Step, progress

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def row(**values):
    base = {
        "status": "logged",
        "appointment_start": None,
        "appointment_end": None,
        "eta": None,
        "en_route_at": None,
        "responded_at": None,
        "completed_at": None,
        "outcome": None,
        "rating": None,
    }
    return base | values


def test_a_new_request_is_received():
    assert progress(row()).step is Step.RECEIVED


@pytest.mark.parametrize("status", ["awaiting_approval", "approved"])
def test_a_request_waiting_for_approval_is_being_reviewed(status):
    assert progress(row(status=status)).step is Step.RECEIVED
    assert "review" in progress(row(status=status)).detail


def test_a_released_request_without_a_time_is_being_scheduled():
    told = progress(row(status="released"))
    assert told.step is Step.SCHEDULING
    assert told.window is None


def test_a_booked_request_shows_its_window():
    start, end = datetime(2026, 12, 3, 13, tzinfo=UTC), datetime(2026, 12, 3, 15, tzinfo=UTC)
    told = progress(row(status="released", appointment_start=start, appointment_end=end))
    assert told.step is Step.BOOKED
    assert told.window == (start, end)
    assert told.eta is None


def test_once_travel_starts_the_eta_is_shown():
    eta = datetime(2026, 12, 3, 13, 40, tzinfo=UTC)
    told = progress(
        row(
            status="released",
            appointment_start=datetime(2026, 12, 3, 13, tzinfo=UTC),
            appointment_end=datetime(2026, 12, 3, 15, tzinfo=UTC),
            en_route_at=datetime(2026, 12, 3, 13, 5, tzinfo=UTC),
            eta=eta,
        )
    )
    assert told.step is Step.ON_THE_WAY
    assert told.eta == eta


def test_the_plan_eta_is_not_shown_before_travel():
    told = progress(
        row(
            status="released",
            appointment_start=datetime(2026, 12, 3, 13, tzinfo=UTC),
            appointment_end=datetime(2026, 12, 3, 15, tzinfo=UTC),
            eta=datetime(2026, 12, 3, 13, 10, tzinfo=UTC),
        )
    )
    assert told.step is Step.BOOKED
    assert told.eta is None


def test_arrival_means_on_site():
    told = progress(
        row(
            status="released",
            en_route_at=datetime(2026, 12, 3, 13, 5, tzinfo=UTC),
            responded_at=datetime(2026, 12, 3, 13, 35, tzinfo=UTC),
            eta=datetime(2026, 12, 3, 13, 40, tzinfo=UTC),
        )
    )
    assert told.step is Step.ON_SITE
    assert told.eta is None


def test_completed_invites_a_rating_until_rated():
    done = row(status="completed", outcome="completed", completed_at=NOW)
    assert progress(done).step is Step.COMPLETED
    assert progress(done).may_rate
    assert not progress(done | {"rating": 4}).may_rate


def test_an_unfinished_visit_is_not_rated():
    told = progress(row(status="incomplete", outcome="incomplete", completed_at=NOW))
    assert told.step is Step.VISITED
    assert not told.may_rate


@pytest.mark.parametrize(
    ("status", "words"),
    [("cancelled", "cancelled"), ("rejected", "not going ahead"), ("duplicate", "another")],
)
def test_closed_requests_say_why(status, words):
    told = progress(row(status=status))
    assert told.step is Step.CLOSED
    assert words in (told.label + " " + told.detail).lower()


def test_a_reopened_job_is_open_again():
    told = progress(row(status="released", outcome="reopened"))
    assert told.step is Step.SCHEDULING
