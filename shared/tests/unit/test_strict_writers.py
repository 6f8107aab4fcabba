"""Only reading events is tolerant: a request body still refuses a field it does not declare.

Readers ignore unknown fields (docs/adr/0082) through ``Contract.read``, which the registry
calls; an HTTP body is validated by FastAPI as contracts are built, strictly, at every
depth, including the contract types a body nests (dispatch's profile body nests
``SkillLevel``, ``GeoPoint`` and ``Shift``).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict

from jobstream.contracts.common import GeoPoint, SiteAddress


class SiteBody(BaseModel):
    """A body of the usual shape: its own fields, and a contract nested in it."""

    model_config = ConfigDict(extra="forbid")

    note: str
    site: SiteAddress


def client() -> TestClient:
    app = FastAPI()

    @app.post("/sites")
    async def add_site(body: SiteBody) -> dict[str, str]:
        return {"site_id": body.site.site_id}

    @app.post("/points")
    async def add_point(body: GeoPoint) -> dict[str, float]:
        return {"lat": body.lat}

    return TestClient(app)


SITE = {"site_id": "s-1", "address": "1 High St", "location": {"lat": 51.5, "lon": -0.1}}


def refused(response) -> list[tuple[str, ...]]:
    assert response.status_code == 422, response.text
    return [
        tuple(map(str, e["loc"]))
        for e in response.json()["detail"]
        if e["type"] == "extra_forbidden"
    ]


def test_a_body_with_only_declared_fields_is_accepted():
    response = client().post("/sites", json={"note": "new", "site": SITE})
    assert (response.status_code, response.json()) == (200, {"site_id": "s-1"})


def test_an_unknown_field_in_a_body_is_refused_at_every_depth():
    site = {**SITE, "floor": 3, "location": {"lat": 51.5, "lon": -0.1, "alt": 12}}
    response = client().post("/sites", json={"note": "new", "site": site, "colour": "red"})
    assert sorted(refused(response)) == [
        ("body", "colour"),
        ("body", "site", "floor"),
        ("body", "site", "location", "alt"),
    ]


def test_a_contract_taken_whole_as_a_body_refuses_an_unknown_field():
    response = client().post("/points", json={"lat": 51.5, "lon": -0.1, "alt": 12})
    assert refused(response) == [("body", "alt")]
