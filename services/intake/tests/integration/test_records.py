"""Customers, sites, contacts, assets and contracts: created, checked, scoped."""

import pytest

pytestmark = pytest.mark.integration

CUSTOMER = {"customer_id": "cust-dd", "name": "Deansgate Dental", "billing_address": "14 Deansgate"}
SITE = {
    "site_id": "site-dd",
    "customer_id": "cust-dd",
    "name": "Surgery",
    "address": "14 Deansgate, Manchester M3 2BW",
    "location": {"lat": 53.4794, "lon": -2.2479},
    "time_zone": "Europe/London",
}


async def test_records_are_created_and_read_back(intake):
    await intake.seed()
    site = (await intake.get("/sites/site-dd")).json()
    assert site["location"] == SITE["location"]
    assert site["time_zone"] == "Europe/London"
    contact = (await intake.get("/contacts", params={"customer_id": "cust-dd"})).json()[0]
    assert contact["email"] == "priya@dd.example"  # matched case-insensitively
    asset = (await intake.get("/assets/asset-dd-boiler")).json()
    assert asset["customer_id"] == "cust-dd"


async def test_a_taken_id_answers_409(intake):
    await intake.post("/customers", CUSTOMER)
    assert (await intake.post("/customers", CUSTOMER)).status_code == 409


async def test_an_unknown_time_zone_is_refused_naming_the_field(intake):
    await intake.post("/customers", CUSTOMER)
    response = await intake.post("/sites", SITE | {"time_zone": "Europe/Atlantis"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "time_zone"]


async def test_a_site_needs_an_existing_customer(intake):
    response = await intake.post("/sites", SITE)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "customer_id"]


async def test_a_contract_cannot_cover_another_customers_site(intake):
    await intake.seed()
    contract = {
        "customer_id": "cust-dd",
        "name": "Gold",
        "coverage": "24x7",
        "targets": {
            p: {"respond_minutes": 60, "resolve_minutes": 240} for p in ("P1", "P2", "P3", "P4")
        },
        "site_ids": ["site-other"],
        "valid_from": "2026-01-01",
    }
    response = await intake.post("/contracts", contract)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "site_ids"]


async def test_customers_read_only_their_own_records_and_cannot_write(intake):
    await intake.seed()
    portal = intake.customer()
    assert (await intake.get("/customers/cust-dd", portal)).status_code == 200
    assert (await intake.get("/customers/cust-other", portal)).status_code == 404
    assert (await intake.get("/customers", portal)).status_code == 403
    assert (
        await intake.get("/assets", portal, params={"customer_id": "cust-other"})
    ).status_code == 403
    assert (await intake.post("/sites", SITE | {"site_id": "x"}, portal)).status_code == 403


async def test_job_types_list_the_gas_safe_requirement(intake):
    replacement = (await intake.get("/job-types/boiler_replacement")).json()
    assert replacement["required_certifications"] == ["gas_safe"]
    assert replacement["needs_approval"] is True
