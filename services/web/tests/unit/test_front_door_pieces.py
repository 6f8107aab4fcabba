"""Pure pieces of the front door.

Redirects, the rate limit, OIDC claims, live changes, the content security policy.
"""

import json

import pytest

from jobstream.auth import Role
from jobstream.web.access import home_for, safe_next
from jobstream.web.live import change_from_record, visible_to
from jobstream.web.oidc import OidcRefusedError, claim, role_from_claims
from jobstream.web.ratelimit import SlidingWindow
from jobstream.web.security import content_security_policy


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil", "javascript:alert(1)", "/a\r\nb"],
)
def test_a_sign_in_never_redirects_off_site(target):
    assert safe_next(target, "/home") == "/home"


def test_a_sign_in_returns_to_the_page_asked_for():
    assert safe_next("/office/work-orders?status=logged") == "/office/work-orders?status=logged"


def test_each_role_has_a_home():
    assert {home_for(r) for r in Role} == {"/board", "/dashboard", "/tech", "/portal"}


def test_the_sliding_window_allows_the_limit_then_says_how_long_to_wait():
    now = [0.0]
    window = SlidingWindow(3, 60, clock=lambda: now[0])
    assert [window.retry_after("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert window.retry_after("a") == pytest.approx(60)
    assert window.retry_after("b") == 0.0, "another client is counted apart"
    now[0] = 61
    assert window.retry_after("a") == 0.0


def test_a_role_claim_may_be_a_list_and_a_dotted_path():
    claims = {"realm_access": {"roles": ["offline_access", "dispatcher", "admin"]}}
    assert claim(claims, "realm_access.roles")[1] == "dispatcher"
    assert role_from_claims(claims, "realm_access.roles") is Role.DISPATCHER


def test_no_known_role_refuses_the_sign_in_in_words():
    with pytest.raises(OidcRefusedError, match="no Jobstream role"):
        role_from_claims({"jobstream_role": "superuser"}, "jobstream_role")


def test_a_change_carries_ids_never_data():
    headers = [("ce_type", b"JobScheduled"), ("ce_subject", b"wo-1"), ("ce_id", b"e1")]
    value = json.dumps(
        {
            "work_order_id": "wo-1",
            "technician_id": "t-1",
            "previous_technician_id": "t-0",
            "details": {"customer_id": "c-1", "description": "secret details"},
        }
    ).encode()
    change = change_from_record("workorders.dispatch", headers, value)
    assert change is not None
    assert change.technicians == ("t-1", "t-0") and change.customer_id == "c-1"
    assert "secret" not in change.as_json()


def test_a_record_without_cloudevents_headers_is_no_change():
    assert change_from_record("t", [], b"{}") is None


def test_bound_people_hear_only_of_their_own():
    change = change_from_record(
        "workorders.dispatch",
        [("ce_type", b"JobScheduled"), ("ce_subject", b"wo-1")],
        b'{"technician_id": "t-1", "customer_id": "c-1"}',
    )
    assert change is not None
    assert visible_to(change, technician_id="t-1", customer_id=None)
    assert not visible_to(change, technician_id="t-2", customer_id=None)
    assert visible_to(change, technician_id=None, customer_id="c-1")
    assert not visible_to(change, technician_id=None, customer_id="c-2")
    assert visible_to(change, technician_id=None, customer_id=None), "the office hears all"


def test_the_policy_allows_no_inline_script_and_adds_only_configured_origins():
    plain = content_security_policy()
    assert "script-src 'self'" in plain and "unsafe" not in plain
    assert "form-action 'self';" in plain + ";"
    configured = content_security_policy(
        tile_url="https://tiles.example/{z}/{x}/{y}.png", oidc_issuer="https://id.example/realm"
    )
    assert "img-src 'self' data: blob: https://tiles.example" in configured
    assert "form-action 'self' https://id.example" in configured
