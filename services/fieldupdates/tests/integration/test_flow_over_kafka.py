"""The whole flow through real Kafka: a job pack in from dispatch, field events out."""

import json
import random
from collections import Counter

import httpx
import pytest

from jobstream.contracts import topics
from jobstream.contracts.topics import namespaced
from jobstream.fieldupdates.app import definition
from jobstream.messaging.envelope import Envelope
from jobstream.objectstore import LocalObjectStore
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import DatabaseSettings, KafkaSettings
from jobstream.testing.contract_suite import publish
from jobstream.testing.waiting import wait_until

from .harness import Field, dispatched, rescheduled, tech, visit

pytestmark = pytest.mark.integration


@pytest.fixture
async def live(infra, database_factory, namespace_factory, tmp_path):
    """The fieldupdates service with its consumer and relay running, in its own namespace."""
    namespace = await namespace_factory("fu", partitions=1)
    settings = ServiceSettings()
    settings.namespace = namespace
    settings.kafka = KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=infra.bootstrap_servers)
    settings.database = DatabaseSettings(
        DATABASE_URL=database_factory("jobstream.fieldupdates.db:migrations")
    )
    app = create_app(definition(), settings=settings)
    app.state.object_store = LocalObjectStore(tmp_path / "objects")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://fieldupdates"
        ) as client,
    ):
        yield namespace, Field(client, app.state.runtime.engine)


async def field_topic_values(topic_reader, namespace, predicate):
    records = await topic_reader(
        namespaced(topics.FIELD, namespace),
        lambda recs: predicate([json.loads(r.value) for r in recs]),
        timeout=60,
    )
    return records


async def test_the_flow_from_job_pack_to_completion_reaches_kafka_once_per_action(
    live, infra, topic_reader
):
    namespace, field = live
    job = dispatched("t-ann")
    wo = job.work_order_id
    dispatch_topic = namespaced(topics.DISPATCH, namespace)
    pack = Envelope.new(job, source="jobstream/dispatch")
    await publish(infra.bootstrap_servers, dispatch_topic, [pack])

    async def on_device():
        return (await field.client.get(f"/jobs/{wo}", headers=tech("t-ann"))).status_code == 200

    await wait_until(on_device, timeout=60, message="job pack on the device")

    batch = visit(wo)
    for attempt in range(3):
        shuffled = batch[:]
        random.Random(attempt).shuffle(shuffled)
        assert (await field.sync("t-ann", shuffled)).status_code == 200

    def complete(values):
        return any(v.get("work_order_id") == wo and "completed_at" in v for v in values)

    records = await field_topic_values(topic_reader, namespace, complete)
    mine = [r for r in records if json.loads(r.value).get("work_order_id") == wo]
    ids = Counter(dict(r.headers)["ce_id"] for r in mine)
    assert all(n == 1 for n in ids.values())
    per_action = Counter(json.loads(r.value)["action_id"] for r in mine)
    assert per_action == Counter({a["action_id"]: 1 for a in batch})
    types = [dict(r.headers)["ce_type"].decode() for r in mine]
    assert types[0] == "JobAcknowledged" and types[-1] == "JobCompleted"
    completed = json.loads(mine[-1].value)
    labour = sum(
        json.loads(r.value)["minutes"]
        for r in mine
        if dict(r.headers)["ce_type"] == b"TimeLogged" and json.loads(r.value)["kind"] == "labour"
    )
    assert completed["labour_minutes"] == labour == 75
    # Field events continue the job's causal chain from the dispatch.
    assert {dict(r.headers)["ce_subject"] for r in mine} == {wo.encode()}
    assert {dict(r.headers)["ce_correlationid"] for r in mine} == {pack.correlation_id.encode()}


async def test_a_reassignment_from_kafka_turns_late_device_actions_into_kept_rejections(
    live, infra, topic_reader
):
    namespace, field = live
    job = dispatched("t-ann")
    wo = job.work_order_id
    dispatch_topic = namespaced(topics.DISPATCH, namespace)
    await publish(
        infra.bootstrap_servers,
        dispatch_topic,
        [
            Envelope.new(job, source="jobstream/dispatch"),
            Envelope.new(rescheduled(wo, "t-ann", "t-bob"), source="jobstream/dispatch"),
        ],
    )

    async def moved():
        return (await field.client.get(f"/jobs/{wo}", headers=tech("t-bob"))).status_code == 200

    await wait_until(moved, timeout=60, message="job reassigned to t-bob")
    body = (await field.sync("t-ann", visit(wo)[:2])).json()
    assert body["rejected"] == 2

    def kept(values):
        return sum(1 for v in values if v.get("work_order_id") == wo and "payload" in v) >= 2

    records = await field_topic_values(topic_reader, namespace, kept)
    rejected = [
        json.loads(r.value)
        for r in records
        if dict(r.headers)["ce_type"] == b"DeviceActionRejected"
    ]
    assert {r["action_type"] for r in rejected} == {"acknowledge", "start_travel"}
    assert all("reassigned" in r["reason"] for r in rejected)
