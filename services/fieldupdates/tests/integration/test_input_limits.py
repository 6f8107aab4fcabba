"""Inputs that pass a loose check but cannot be stored are refused with a 4xx, not a 500.

Found by the schemathesis run in tests/security.
"""

import pytest
from sqlalchemy import func, select

from jobstream.fieldupdates.db.tables import events

from .harness import action, dispatched, tech

pytestmark = pytest.mark.integration

BIGINT_MAX = 2**63 - 1


async def event_count(field, wo):
    async with field.engine.connect() as conn:
        return await conn.scalar(
            select(func.count()).select_from(events).where(events.c.stream_id == wo)
        )


async def test_a_device_counter_beyond_bigint_is_refused_naming_the_field(field):
    job = dispatched("t-ann")
    await field.deliver(job)
    response = await field.act(job.work_order_id, "acknowledge", "t-ann", {"device_seq": 2**64})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "device_seq"]
    accepted = await field.act(
        job.work_order_id, "acknowledge", "t-ann", {"device_seq": BIGINT_MAX}
    )
    assert accepted.status_code == 200, accepted.text


async def test_a_synced_device_counter_beyond_bigint_is_refused(field):
    job = dispatched("t-ann")
    await field.deliver(job)
    too_big = action(job.work_order_id, "acknowledge", 1) | {"device_seq": 2**64}
    response = await field.sync("t-ann", [too_big])
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][-1] == "device_seq"


async def test_text_with_a_nul_character_is_refused_and_nothing_is_written(field):
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    before = await event_count(field, wo)
    response = await field.act(wo, "notes", "t-ann", {"text": "valve\u0000seized"})
    assert response.status_code == 422, response.text
    assert "NUL" in response.json()["detail"][0]["msg"]
    assert await event_count(field, wo) == before


async def test_an_unknown_time_zone_is_refused_like_any_invalid_query(field):
    response = await field.client.get("/jobs", params={"tz": "Mars/Olympus"}, headers=tech("t-a"))
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["query", "tz"], "msg": "unknown time zone", "type": "value_error"}
    ]
