"""Given / when / then for logging a request."""

from datetime import UTC, datetime, timedelta

import pytest

from jobstream.contracts.common import Channel, GeoPoint, Priority, SiteAddress
from jobstream.contracts.intake import RequestLogged, WorkOrderReleased
from jobstream.intake.domain.work_order import (
    DomainError,
    LogRequest,
    Status,
    WorkOrder,
    decide_log_request,
    evolve,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SITE = SiteAddress(site_id="s1", address="1 Deansgate", location=GeoPoint(lat=53.48, lon=-2.24))


def command(job_type="boiler_replacement", priority=Priority.P1):
    return LogRequest("wo-1", "c1", SITE, Channel.PHONE, "No heat", priority, job_type, "alice")


def test_logging_a_gas_boiler_job_requires_gas_safe():
    logged, released = decide_log_request(WorkOrder("wo-1"), command(), NOW)
    assert isinstance(logged, RequestLogged)
    assert isinstance(released, WorkOrderReleased)
    assert "gas_safe" in released.details.required_certifications
    assert logged.respond_by == NOW + timedelta(hours=1)
    assert logged.resolve_by == NOW + timedelta(hours=4)


def test_an_unknown_job_type_names_the_field():
    with pytest.raises(DomainError, match="unknown job type") as err:
        decide_log_request(WorkOrder("wo-1"), command(job_type="nope"), NOW)
    assert err.value.field == "job_type"


def test_a_work_order_cannot_be_logged_twice():
    state = WorkOrder("wo-1")
    for event in decide_log_request(state, command(), NOW):
        state = evolve(state, event)
    assert state.status is Status.RELEASED
    with pytest.raises(DomainError, match="already exists"):
        decide_log_request(state, command(), NOW)
