"""Role rules over the five real services: who may call what, and whose records they reach.

The endpoint lists come from each service's OpenAPI document, so an endpoint added tomorrow
is covered without anyone remembering it here: every mutating operation must refuse an
analyst; every operation outside a technician's (or a customer's) short list must refuse
them; every read of a record by id must hide another customer's record; every action on a
job must refuse a technician it is not assigned to. A new path parameter or a new
technician action that these rules cannot classify fails the test until someone decides.
"""

from __future__ import annotations

import importlib
import re
import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio

from jobstream.auth import Role, mint_token
from jobstream.demo import DEMO_PHOTO, REQUESTS
from jobstream.service import Role as ProcessRole
from jobstream.service import ServiceSettings, create_app
from jobstream.settings import AuthSettings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

SERVICES = ("intake", "dispatch", "fieldupdates", "billing", "reporting")
PUBLIC = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
# Reporting's dashboard sign-in (ADR 0055): the form and its POST take the token in the body
# and set a session cookie; signing out clears it. They are for anyone, by design.
SIGN_IN = {"/login", "/logout"}

# What a technician's device may call: the field API, but not its office part.
TECHNICIAN_MAY = {
    ("fieldupdates", method, path)
    for method, path in [
        ("GET", "/jobs"),
        ("GET", "/jobs/{work_order_id}"),
        ("POST", "/sync"),
        ("POST", "/location"),
        ("PUT", "/jobs/{work_order_id}/attachments/{attachment_id}"),
        ("GET", "/jobs/{work_order_id}/attachments/{attachment_id}"),
    ]
}  # and every technician action, POST /jobs/{work_order_id}/<action>: see below
# What the customer portal may call: log a request, read their own records and invoices.
CUSTOMER_MAY = {
    ("intake", "POST", "/requests"),
    # What logging would set (deadlines, a likely duplicate), as the portal shows before saving.
    ("intake", "POST", "/requests/preview"),
    # A photo to send with a request, and reading back the files their request came with.
    ("intake", "POST", "/request-photos"),
    ("intake", "GET", "/work-orders/{work_order_id}/attachments/{index}"),
    # Rating a completed visit: the customer's alone.
    ("intake", "POST", "/work-orders/{work_order_id}/rating"),
    ("billing", "GET", "/invoices"),
    # A customer reads their own invoices and credit notes (billing filters by the token).
    ("billing", "GET", "/invoices/{invoice}"),
    ("billing", "GET", "/credit-notes"),
    # The printed invoice and credit note they receive (ADR 0070).
    ("billing", "GET", "/invoices/{invoice}.pdf"),
    ("billing", "GET", "/credit-notes/{credit_note}.pdf"),
} | {
    ("intake", "GET", path)
    for path in (
        "/work-orders",
        "/work-orders/{work_order_id}",
        "/customers/{customer_id}",
        "/sites",
        "/sites/{site_id}",
        "/contacts",
        "/assets",
        "/assets/{asset_id}",
        "/contracts",
        "/contracts/{contract_id}",
        "/job-types",
        "/job-types/{code}",
        "/maintenance-plans",
        "/maintenance-plans/{plan_id}",
    )
}
# Spending decisions are the office manager's (admin), not the dispatcher's.
ADMIN_ONLY = {
    ("intake", "POST", "/work-orders/{work_order_id}/approve"),
    ("intake", "POST", "/work-orders/{work_order_id}/reject"),
}
# Path parameters that name no customer's record: the same for every caller.
SHARED_CATALOGUE_PARAMETERS = {"code"}
# Minimal bodies satisfy the schema but not every cross-field rule: these do.
VALID_ACTION_BODIES: dict[str, dict[str, Any]] = {
    "time": {"kind": "labour", "minutes": 30},
    "checklist": {"item_id": "flue", "answer": {"answer_type": "yes_no", "yes_no": True}},
}


def openapi(service: str) -> dict[str, Any]:
    definition = importlib.import_module(f"jobstream.{service}.app").definition()
    settings = ServiceSettings()
    settings.auth = AuthSettings()
    return create_app(definition, frozenset({ProcessRole.API}), settings).openapi()


DOCS = {service: openapi(service) for service in SERVICES}


def operations() -> list[tuple[str, str, str]]:
    """(service, METHOD, path) of every protected operation."""
    return [
        (service, method.upper(), path)
        for service, doc in DOCS.items()
        for path, ops in doc["paths"].items()
        if path not in PUBLIC and path not in SIGN_IN
        for method in sorted(ops)
    ]


def is_technician_action(service: str, method: str, path: str) -> bool:
    return (
        service == "fieldupdates"
        and method == "POST"
        and re.fullmatch(r"/jobs/\{work_order_id\}/[a-z-]+", path) is not None
    )


def technician_may(service: str, method: str, path: str) -> bool:
    return (service, method, path) in TECHNICIAN_MAY or is_technician_action(service, method, path)


def ids(ops: list[tuple[str, str, str]]) -> list[Any]:
    return [pytest.param(*op, id=" ".join(op)) for op in ops]


def concrete(path: str, values: dict[str, str] | None = None) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: (values or {}).get(m.group(1), "x-1"), path)


def headers(role: Role, **scope: str) -> dict[str, str]:
    token = mint_token(AuthSettings(), subject=f"sec-{role.value}", role=role, **scope)
    return {"Authorization": f"Bearer {token}"}


# -- a minimal valid body from an OpenAPI schema ------------------------------------------


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return schema


def minimal(doc: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The smallest instance of ``schema`` that its constraints accept."""
    schema = _resolve(doc, schema)
    part = _composed_of(doc, schema)
    if part is not None:
        return minimal(doc, part)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: minimal(doc, props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal(doc, schema.get("items", {}))] * schema.get("minItems", 0)
    return _minimal_scalar(schema)


def _composed_of(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The part of a composed schema to satisfy: anyOf's or oneOf's first non-null, or allOf's."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(doc, o).get("type") != "null"]
            return options[0]
    if "allOf" in schema:
        return schema["allOf"][0]
    return None


def _minimal_scalar(schema: dict[str, Any]) -> Any:
    """The smallest number, boolean, date or string that ``schema`` accepts."""
    kind = schema.get("type")
    if kind in ("integer", "number"):
        return _minimal_number(schema)
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return datetime.now(UTC).isoformat()
    if schema.get("format") == "date":
        return date.today().isoformat()
    return "x" * max(1, schema.get("minLength", 1))


def _minimal_number(schema: dict[str, Any]) -> int | float:
    """The smallest integer or number that ``schema`` accepts."""
    if schema.get("type") == "number":
        return float(schema.get("minimum", 1.0))
    if "exclusiveMinimum" in schema:
        return int(schema["exclusiveMinimum"]) + 1
    return int(schema.get("minimum", 1))


def action_body(path: str) -> dict[str, Any]:
    """A body for a technician action that passes validation, so the answer is who calls.

    It is the schema's minimum, or a known valid body where a cross-field rule applies.
    """
    action = path.rsplit("/", 1)[-1]
    if action in VALID_ACTION_BODIES:
        return VALID_ACTION_BODIES[action]
    doc = DOCS["fieldupdates"]
    body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    value = minimal(doc, body)
    assert isinstance(value, dict)
    return value


# -- the world the rules are checked in ---------------------------------------------------

CUSTOMER_X = REQUESTS[0]  # their job was completed and invoiced
CUSTOMER_Y = REQUESTS[2]  # their job is on a technician's device, not started


class World:
    """Two customers with records and jobs, two technicians, and the ids to probe with."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.urls: dict[str, str] = stack.urls
        self.x_ids: dict[str, str] = {}
        self.y_ids: dict[str, str] = {}
        self.owner = ""
        self.intruder = ""
        self.open_job = ""
        self.attachment_id = f"sec-photo-{uuid.uuid4().hex[:8]}"
        # Customer X's portal request that came with a photo: a file of a work order is
        # probed on it (their completed job has none).
        self.x_files: dict[str, str] = {}


async def invoice_of(stack: Any, billing: str, work_order_id: str) -> str:
    """The id of the invoice the journey's completion produced."""
    response = await stack.client.get(
        f"{billing}/invoices", params={"work_order_id": work_order_id}, headers=stack.office
    )
    assert response.status_code == 200, response.text
    [invoice] = response.json()
    return str(invoice["invoice_id"])


async def credit_note_of(stack: Any, urls: dict[str, str], request: dict[str, Any]) -> str:
    """The id of a credit note of the customer's.

    A second job is reopened and completed again with more labour, so billing credits its
    invoice and issues a corrected one.
    """
    job = await stack.journey(request, timeout_s=120)
    field = f"{urls['fieldupdates']}/jobs/{job.work_order_id}"
    reopened = await stack.client.post(
        f"{urls['fieldupdates']}/office/jobs/{job.work_order_id}/reopen",
        json={"reason": "The fault came back"},
        headers=stack.office,
    )
    assert reopened.is_success, reopened.text
    device = stack.technician(job.technician_id)
    for step, body in (
        ("time", {"kind": "labour", "minutes": 30}),
        ("complete", {"work_done": "Replaced the pump", "first_time_fix": False}),
    ):
        response = await stack.client.post(f"{field}/{step}", json=body, headers=device)
        assert response.is_success, f"{step}: {response.text}"

    async def credited() -> list[dict[str, Any]]:
        r = await stack.client.get(
            f"{urls['billing']}/credit-notes",
            params={"work_order_id": job.work_order_id},
            headers=stack.office,
        )
        return r.json() if r.status_code == 200 else []

    [credit] = await stack._poll(f"{job.work_order_id} credited", credited, 120)
    return str(credit["credit_note_id"])


@pytest_asyncio.fixture(scope="module")
async def world(live_stack: Any) -> World:
    stack = live_stack.client
    world = World(live_stack)
    await stack.register_technicians()
    done = await stack.journey(CUSTOMER_X, timeout_s=120)
    # Before customer X has a contract on file: billing would hold a job under a contract
    # whose terms it has not been given.
    credit_note = await credit_note_of(stack, world.urls, CUSTOMER_X)
    office = stack.office
    intake = world.urls["intake"]
    x = CUSTOMER_X["customer_id"]
    suffix = uuid.uuid4().hex[:6]
    records = {
        "/assets": {
            "asset_id": f"asset-x-{suffix}",
            "site_id": CUSTOMER_X["site"]["site_id"],
            "asset_type": "gas_boiler",
        },
        "/contacts": {"contact_id": f"ct-x-{suffix}", "customer_id": x, "name": "Priya"},
        "/contracts": {
            "contract_id": f"ctr-x-{suffix}",
            "customer_id": x,
            "name": "Round the clock",
            "coverage": "24x7",
            "targets": {
                p: {"respond_minutes": 240, "resolve_minutes": 960}
                for p in ("P1", "P2", "P3", "P4")
            },
            "valid_from": "2020-01-01",
        },
        "/maintenance-plans": {
            "plan_id": f"plan-x-{suffix}",
            "site_id": CUSTOMER_X["site"]["site_id"],
            "job_type": "boiler_service",
            "starts_on": "2030-03-01",
            "every_months": 12,
        },
    }
    for path, body in records.items():
        response = await stack.client.post(f"{intake}{path}", json=body, headers=office)
        assert response.status_code == 201, f"{path}: {response.text}"
    world.x_ids = {
        "customer_id": x,
        "site_id": CUSTOMER_X["site"]["site_id"],
        "work_order_id": done.work_order_id,
        "asset_id": records["/assets"]["asset_id"],
        "contract_id": records["/contracts"]["contract_id"],
        "plan_id": records["/maintenance-plans"]["plan_id"],
        "invoice": await invoice_of(stack, world.urls["billing"], done.work_order_id),
        "credit_note": credit_note,
    }
    as_x = headers(Role.CUSTOMER, customer_id=x)
    photo = await stack.client.post(
        f"{intake}/request-photos",
        content=DEMO_PHOTO,
        headers={**as_x, "Content-Type": "image/png"},
    )
    assert photo.status_code in (200, 201), photo.text
    with_photo = await stack.client.post(
        f"{intake}/requests",
        json={
            "customer_id": x,
            "site_id": CUSTOMER_X["site"]["site_id"],
            "description": "Radiator cold at the top",
            "priority": "P4",
            "attachments": [photo.json()],
        },
        headers=as_x,
    )
    assert with_photo.status_code == 201, with_photo.text
    world.x_files = {"work_order_id": with_photo.json()["work_order_id"], "index": "0"}

    # Customer Y's job: released, scheduled and on its technician's device, not started.
    world.open_job = await stack.log_and_release(CUSTOMER_Y)
    dispatch = f"{world.urls['dispatch']}/jobs/{world.open_job}"

    async def technician() -> str | None:
        r = await stack.client.get(dispatch, headers=office)
        return r.json()["technician_id"] if r.status_code == 200 else None

    world.owner = await stack._poll("the open job dispatched", technician, 120)
    device = stack.technician(world.owner)
    field = f"{world.urls['fieldupdates']}/jobs/{world.open_job}"

    async def on_device() -> bool:
        return (await stack.client.get(field, headers=device)).status_code == 200

    await stack._poll("the open job on the device", on_device, 120)
    world.intruder = next(t for t in ("tech-amir", "tech-beth", "tech-chen") if t != world.owner)
    upload = await stack.client.put(
        f"{field}/attachments/{world.attachment_id}?kind=photo",
        content=DEMO_PHOTO,
        headers={**device, "Content-Type": "image/png"},
    )
    assert upload.status_code == 201, upload.text
    world.y_ids = {
        "customer_id": CUSTOMER_Y["customer_id"],
        "site_id": CUSTOMER_Y["site"]["site_id"],
        "work_order_id": world.open_job,
    }
    return world


async def call(
    world: World,
    service: str,
    method: str,
    path: str,
    who: dict[str, str],
    **kwargs: Any,
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=world.urls[service], timeout=30) as client:
        return await client.request(method, path, headers=who, **kwargs)


# -- roles on whole endpoints -------------------------------------------------------------


def test_the_lists_name_only_operations_that_exist():
    known = set(operations())
    listed = TECHNICIAN_MAY | CUSTOMER_MAY | ADMIN_ONLY
    assert listed <= known, f"stale entries: {sorted(listed - known)}"
    assert any(is_technician_action(*op) for op in known)


MUTATING = [op for op in operations() if op[1] != "GET"]


@pytest.mark.parametrize(("service", "method", "path"), ids(MUTATING))
async def test_an_analyst_may_not_change_anything(world, service, method, path):
    response = await call(world, service, method, concrete(path), headers(Role.ANALYST))
    assert response.status_code == 403, response.text


NOT_FOR_TECHNICIANS = [op for op in operations() if not technician_may(*op)]


@pytest.mark.parametrize(("service", "method", "path"), ids(NOT_FOR_TECHNICIANS))
async def test_a_technician_is_refused_outside_the_field_api(world, service, method, path):
    who = headers(Role.TECHNICIAN, technician_id=world.owner)
    response = await call(world, service, method, concrete(path), who)
    assert response.status_code == 403, response.text


NOT_FOR_CUSTOMERS = [op for op in operations() if op not in CUSTOMER_MAY]


@pytest.mark.parametrize(("service", "method", "path"), ids(NOT_FOR_CUSTOMERS))
async def test_a_customer_is_refused_outside_the_portal(world, service, method, path):
    who = headers(Role.CUSTOMER, customer_id=world.y_ids["customer_id"])
    response = await call(world, service, method, concrete(path), who)
    assert response.status_code == 403, response.text


@pytest.mark.parametrize(("service", "method", "path"), ids(sorted(ADMIN_ONLY)))
async def test_a_dispatcher_may_not_approve_spending(world, service, method, path):
    response = await call(world, service, method, concrete(path), headers(Role.DISPATCHER))
    assert response.status_code == 403, response.text


# -- a technician and another technician's job ---------------------------------------------


async def test_another_technicians_job_is_not_in_a_technicians_day(world):
    def jobs(r: httpx.Response) -> set[str]:
        assert r.status_code == 200, r.text
        return {j["work_order_id"] for j in r.json()}

    intruder = headers(Role.TECHNICIAN, technician_id=world.intruder)
    owner = headers(Role.TECHNICIAN, technician_id=world.owner)
    # Ask for the day the job is planned on: late in the evening the plan is for tomorrow.
    job = await call(world, "fieldupdates", "GET", f"/jobs/{world.open_job}", owner)
    assert job.status_code == 200, job.text
    planned = datetime.fromisoformat(job.json()["window_start"])
    day = {"day": planned.astimezone(ZoneInfo("Europe/London")).date().isoformat()}
    assert world.open_job not in jobs(
        await call(world, "fieldupdates", "GET", "/jobs", intruder, params=day)
    )
    assert world.open_job in jobs(
        await call(world, "fieldupdates", "GET", "/jobs", owner, params=day)
    )


JOB_OPERATIONS = [
    op
    for op in operations()
    if op[0] == "fieldupdates" and technician_may(*op) and op[2].startswith("/jobs/{work_order_id}")
]


def job_request(world: World, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The URL and body of ``path`` on the open job, as its owner would send it."""
    values = {"work_order_id": world.open_job, "attachment_id": world.attachment_id}
    if path.endswith("/attachments/{attachment_id}") and method == "PUT":
        values["attachment_id"] = f"sec-new-{uuid.uuid4().hex[:8]}"
        return concrete(path, values) + "?kind=photo", {
            "content": DEMO_PHOTO,
            "headers": {"Content-Type": "image/png"},
        }
    if method == "POST":
        return concrete(path, values), {"json": action_body(path)}
    return concrete(path, values), {}


def with_headers(kwargs: dict[str, Any], who: dict[str, str]) -> dict[str, Any]:
    return {**kwargs, "headers": {**kwargs.get("headers", {}), **who}}


@pytest.mark.parametrize(("service", "method", "path"), ids(JOB_OPERATIONS))
async def test_a_technician_cannot_touch_another_technicians_job(world, service, method, path):
    url, kwargs = job_request(world, method, path)
    intruder = headers(Role.TECHNICIAN, technician_id=world.intruder)
    owner = headers(Role.TECHNICIAN, technician_id=world.owner)
    async with httpx.AsyncClient(base_url=world.urls[service], timeout=30) as client:
        refused = await client.request(method, url, **with_headers(kwargs, intruder))
        assert refused.status_code == 403, refused.text
        # The same request from the job's own technician is not refused for who they are
        # (it may still be refused for the job's state), so the 403 is about ownership.
        url, kwargs = job_request(world, method, path)
        allowed = await client.request(method, url, **with_headers(kwargs, owner))
        assert allowed.status_code not in (401, 403, 404, 422), allowed.text


async def test_syncing_actions_on_another_technicians_job_applies_none(world):
    note = f"sec-note-{uuid.uuid4().hex[:8]}"
    batch = {
        "actions": [
            {
                "action_id": str(uuid.uuid4()),
                "work_order_id": world.open_job,
                "type": "add_note",
                "device_time": datetime.now(UTC).isoformat(),
                "payload": {"text": note},
            }
        ]
    }
    intruder = headers(Role.TECHNICIAN, technician_id=world.intruder)
    response = await call(world, "fieldupdates", "POST", "/sync", intruder, json=batch)
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == "rejected" and "not assigned" in result["reason"]
    office = headers(Role.DISPATCHER)
    job = await call(world, "fieldupdates", "GET", f"/jobs/{world.open_job}", office)
    assert note not in job.text


# -- a customer and another customer's records ----------------------------------------------

CUSTOMER_READS_BY_ID = [
    op
    for op in sorted(CUSTOMER_MAY)
    if op[1] == "GET"
    and "{" in op[2]
    and not set(re.findall(r"\{([^}]+)\}", op[2])) <= SHARED_CATALOGUE_PARAMETERS
]


@pytest.mark.parametrize(("service", "method", "path"), ids(CUSTOMER_READS_BY_ID))
async def test_a_customer_cannot_read_another_customers_record(world, service, method, path):
    names = set(re.findall(r"\{([^}]+)\}", path))
    values = world.x_ids | (world.x_files if "index" in names else {})
    unknown = names - set(values)
    assert not unknown, f"classify path parameter(s) {unknown} of {path} in this test"
    url = concrete(path, values)
    y = headers(Role.CUSTOMER, customer_id=world.y_ids["customer_id"])
    x = headers(Role.CUSTOMER, customer_id=world.x_ids["customer_id"])
    # 404, not 403: the answer must not tell whether the id exists (ADR 0006).
    assert (await call(world, service, method, url, y)).status_code == 404
    assert (await call(world, service, method, url, x)).status_code == 200


CUSTOMER_LISTS = [op for op in sorted(CUSTOMER_MAY) if op[1] == "GET" and "{" not in op[2]]


def has_customer_filter(service: str, method: str, path: str) -> bool:
    params = DOCS[service]["paths"][path][method.lower()].get("parameters", [])
    return any(p["name"] == "customer_id" and p["in"] == "query" for p in params)


@pytest.mark.parametrize(
    ("service", "method", "path"), ids([op for op in CUSTOMER_LISTS if has_customer_filter(*op)])
)
async def test_a_customer_cannot_filter_by_another_customer(world, service, method, path):
    y = headers(Role.CUSTOMER, customer_id=world.y_ids["customer_id"])
    params = {"customer_id": world.x_ids["customer_id"]}
    response = await call(world, service, method, path, y, params=params)
    assert response.status_code == 403, response.text


def of_customer_x(world: World, item: dict[str, Any]) -> bool:
    return (
        item.get("customer_id") == world.x_ids["customer_id"]
        or item.get("site_id") == world.x_ids["site_id"]
        or item.get("work_order_id") == world.x_ids["work_order_id"]
    )


@pytest.mark.parametrize(("service", "method", "path"), ids(CUSTOMER_LISTS))
async def test_a_customers_lists_hold_only_their_own(world, service, method, path):
    y = headers(Role.CUSTOMER, customer_id=world.y_ids["customer_id"])
    response = await call(world, service, method, path, y)
    assert response.status_code == 200, response.text
    office = (await call(world, service, method, path, headers(Role.DISPATCHER))).json()
    if any(("customer_id" in i or "site_id" in i) for i in office):
        # The office's list holds customer X's rows: the customer's list has them to hide.
        assert any(of_customer_x(world, i) for i in office), office
    for item in response.json():
        if "customer_id" in item:
            assert item["customer_id"] == world.y_ids["customer_id"], item
        assert item.get("work_order_id") != world.x_ids["work_order_id"], item
        assert item.get("site_id") != world.x_ids["site_id"], item


async def test_a_customer_sees_their_own_job_but_no_one_elses_invoice(world):
    x = headers(Role.CUSTOMER, customer_id=world.x_ids["customer_id"])
    y = headers(Role.CUSTOMER, customer_id=world.y_ids["customer_id"])
    params = {"work_order_id": world.x_ids["work_order_id"]}
    own = await call(world, "billing", "GET", "/invoices", x, params=params)
    assert own.status_code == 200 and len(own.json()) == 1, own.text
    other = await call(world, "billing", "GET", "/invoices", y, params=params)
    assert other.status_code == 200 and other.json() == [], other.text


async def test_a_customer_cannot_log_a_request_for_another_customer(world):
    y = headers(Role.CUSTOMER, customer_id=world.y_ids["customer_id"])
    request = {
        "description": "Radiator cold",
        "priority": "P3",
        "job_type": "hvac_maintenance",
    }
    as_x = request | {"customer_id": world.x_ids["customer_id"], "site_id": world.x_ids["site_id"]}
    response = await call(world, "intake", "POST", "/requests", y, json=as_x)
    assert response.status_code == 403, response.text
    at_x_site = request | {
        "customer_id": world.y_ids["customer_id"],
        "site_id": world.x_ids["site_id"],
    }
    response = await call(world, "intake", "POST", "/requests", y, json=at_x_site)
    assert response.status_code == 404, response.text
    own = request | {"customer_id": world.y_ids["customer_id"], "site_id": world.y_ids["site_id"]}
    # Nor preview one there (the preview would say another customer's contract terms).
    response = await call(world, "intake", "POST", "/requests/preview", y, json=as_x)
    assert response.status_code == 403, response.text
    response = await call(world, "intake", "POST", "/requests/preview", y, json=at_x_site)
    assert response.status_code == 404, response.text
    response = await call(world, "intake", "POST", "/requests/preview", y, json=own)
    assert response.status_code == 200, response.text
    response = await call(world, "intake", "POST", "/requests", y, json=own)
    assert response.status_code == 201, response.text
