"""CloudEvents binary-mode envelope: round trip and every way a message can be malformed."""

import json
from datetime import UTC, datetime

import pytest

from jobstream.contracts.field import JobCompleted
from jobstream.messaging.envelope import Envelope, MalformedMessageError, from_kafka, to_kafka


def completed(work_order_id: str = "wo-1") -> JobCompleted:
    return JobCompleted(
        work_order_id=work_order_id,
        technician_id="tech-1",
        customer_id="cust-1",
        job_type="leak_repair",
        priority="P3",
        completed_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        device_time=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        received_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        labour_minutes=75,
        work_done="Replaced pump",
        first_time_fix=True,
    )


def encoded(**overrides):
    envelope = Envelope.new(completed(), source="jobstream/fieldupdates", sequence=3)
    key, value, headers = to_kafka(envelope)
    return envelope, key, value, headers


def test_round_trip_keeps_every_attribute():
    envelope, key, value, headers = encoded()
    decoded = from_kafka(key, value, headers)
    assert decoded.id == envelope.id
    assert decoded.type == "JobCompleted"
    assert decoded.subject == "wo-1"
    assert decoded.sequence == 3
    assert decoded.data == envelope.data
    assert key == b"wo-1"
    names = {name for name, _ in headers}
    assert {"ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "ce_specversion"} <= names
    assert ("content-type", b"application/json") in headers


def replace_header(headers, name, value):
    return [(n, value if n == name else v) for n, v in headers]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda k, v, h: (k, b"not json", h), "not JSON"),
        (lambda k, v, h: (k, b"[1, 2]", h), "not a JSON object"),
        (lambda k, v, h: (k, v, [x for x in h if x[0] != "ce_id"]), "ce_id"),
        (lambda k, v, h: (k, v, replace_header(h, "ce_specversion", b"0.3")), "specversion"),
        (lambda k, v, h: (k, v, replace_header(h, "ce_type", b"NoSuchEvent")), "unknown event"),
        (lambda k, v, h: (k, v, replace_header(h, "ce_schemaversion", b"9")), "schema version"),
        (lambda k, v, h: (k, v, replace_header(h, "ce_time", b"yesterday")), "attribute"),
        (lambda k, v, h: (b"wo-other", v, h), "key does not match"),
        (
            lambda k, v, h: (k, json.dumps({**json.loads(v), "labour_minutes": -1}).encode(), h),
            "labour_minutes",
        ),
        (lambda k, v, h: (k, None, h), "empty value"),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(mutate, reason):
    _, key, value, headers = encoded()
    key, value, headers = mutate(key, value, headers)
    with pytest.raises(MalformedMessageError, match=reason):
        from_kafka(key, value, headers)


def test_a_field_this_release_does_not_know_is_dropped_not_refused():
    """A newer producer added an optional field (docs/adr/0082): the event still reads."""
    envelope, key, value, headers = encoded()
    value = json.dumps({**json.loads(value), "van_registration": "AB12 CDE"}).encode()
    decoded = from_kafka(key, value, headers)
    assert decoded.data == envelope.data
    assert "van_registration" not in decoded.data.model_dump()


def test_an_attribute_this_release_does_not_know_is_kept_not_refused():
    """A newer producer adds a CloudEvents extension (trace context, say): it still reads."""
    envelope, key, value, headers = encoded()
    traceparent = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    headers = [*headers, ("ce_traceparent", traceparent), ("ce_tenant", b"north")]
    decoded = from_kafka(key, value, headers)
    assert decoded.data == envelope.data
    assert decoded.extra_headers["ce_traceparent"] == traceparent.decode()
    assert decoded.extra_headers["ce_tenant"] == "north"


def test_a_newer_schema_version_is_refused_even_with_fields_this_release_knows():
    _, key, value, headers = encoded()
    with pytest.raises(MalformedMessageError, match="unknown schema version 2 for JobCompleted"):
        from_kafka(key, value, replace_header(headers, "ce_schemaversion", b"2"))


def test_times_are_normalised_to_utc():
    from datetime import timedelta, timezone

    event = completed().model_copy()
    local = JobCompleted.model_validate(
        {
            **event.model_dump(),
            "completed_at": datetime(2026, 7, 1, 11, 0, tzinfo=timezone(timedelta(hours=1))),
        }
    )
    assert local.completed_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert local.completed_at.utcoffset() == timedelta(0)
