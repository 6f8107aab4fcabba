"""The office resolves device actions that could not be applied.

A record of work (time, material, parts, note) is applied to the job as it stands,
attributed to the technician who did it; anything may be discarded with a reason; each is
resolved once, on record.
"""

import pytest

from .harness import action, dispatched, office, rescheduled, tech

pytestmark = pytest.mark.integration


async def kept_after_reassignment(field):
    """Ann's job goes to Bob while her device is offline; her time and her arrival are kept."""
    job = dispatched("t-ann")
    wo = job.work_order_id
    await field.deliver(job)
    await field.deliver(rescheduled(wo, "t-ann", "t-bob"))
    late = [
        action(wo, "log_time", 20, {"kind": "labour", "minutes": 40}),
        action(wo, "arrive", 21),
    ]
    await field.sync("t-ann", late)
    return wo, late


async def resolve(field, wo, action_id, verb, body):
    return await field.client.post(
        f"/office/jobs/{wo}/rejected-actions/{action_id}/{verb}", json=body, headers=office()
    )


async def kept_rows(field, wo):
    response = await field.client.get(
        f"/office/rejected-actions?work_order_id={wo}", headers=office()
    )
    return {k["action_id"]: k for k in response.json()}


async def test_a_kept_time_entry_is_applied_to_the_job_as_the_former_technicians_work(field):
    wo, (time_entry, _arrival) = await kept_after_reassignment(field)
    response = await resolve(field, wo, time_entry["action_id"], "apply", {"note": "she did it"})
    assert response.status_code == 200, response.text
    record = (await field.client.get(f"/jobs/{wo}", headers=office())).json()
    entries = [e for e in record["time"]["entries"] if e["minutes"] == 40]
    assert len(entries) == 1 and entries[0]["technician_id"] == "t-ann"
    row = (await kept_rows(field, wo))[time_entry["action_id"]]
    assert row["resolution"] == "applied" and row["resolution_reason"] == "she did it"
    assert row["resolved_by"] and row["resolved_at"]


async def test_applying_twice_changes_nothing_more(field):
    wo, (time_entry, _arrival) = await kept_after_reassignment(field)
    assert (await resolve(field, wo, time_entry["action_id"], "apply", {})).status_code == 200
    again = await resolve(field, wo, time_entry["action_id"], "apply", {})
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]
    record = (await field.client.get(f"/jobs/{wo}", headers=office())).json()
    assert len([e for e in record["time"]["entries"] if e["minutes"] == 40]) == 1


async def test_a_status_change_cannot_be_applied_only_discarded_with_a_reason(field):
    wo, (_time_entry, arrival) = await kept_after_reassignment(field)
    refused = await resolve(field, wo, arrival["action_id"], "apply", {})
    assert refused.status_code == 409 and "cannot be applied later" in refused.json()["detail"]
    view = (await field.client.get(f"/jobs/{wo}", headers=tech("t-bob"))).json()
    assert view["status"] == "dispatched", "Bob's visit is untouched"
    no_reason = await resolve(field, wo, arrival["action_id"], "discard", {"reason": ""})
    assert no_reason.status_code == 422
    done = await resolve(field, wo, arrival["action_id"], "discard", {"reason": "Bob went"})
    assert done.status_code == 200
    row = (await kept_rows(field, wo))[arrival["action_id"]]
    assert row["resolution"] == "discarded" and row["resolution_reason"] == "Bob went"
    assert not row["resolvable"]


async def test_an_unknown_kept_action_is_named(field):
    wo, _ = await kept_after_reassignment(field)
    response = await resolve(field, wo, "no-such-action", "discard", {"reason": "x"})
    assert response.status_code == 409 and "no kept device action no-such-action" in response.text


async def test_a_technician_cannot_resolve_kept_actions(field):
    wo, (time_entry, _arrival) = await kept_after_reassignment(field)
    response = await field.client.post(
        f"/office/jobs/{wo}/rejected-actions/{time_entry['action_id']}/apply",
        json={},
        headers=tech("t-bob"),
    )
    assert response.status_code == 403
