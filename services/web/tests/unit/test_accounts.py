"""Account rules: usernames, bindings per role, passwords, the lockout."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobstream.auth import Role
from jobstream.web.domain.accounts import (
    AccountRejectedError,
    LockoutPolicy,
    after_wrong_password,
    check_binding,
    check_password,
    check_username,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy(failures=5, duration=timedelta(minutes=15))


def test_usernames_are_compared_without_case_or_blanks():
    assert check_username("  Dan.Dispatch ") == "dan.dispatch"


@pytest.mark.parametrize("bad", ["", "ab", "-dash-first", "has space", "x" * 65, "émile"])
def test_a_bad_username_names_the_rule(bad):
    with pytest.raises(AccountRejectedError) as refused:
        check_username(bad)
    assert refused.value.field == "username"


def test_a_technician_must_be_bound_to_a_technician():
    with pytest.raises(AccountRejectedError, match="must name its technician") as refused:
        check_binding(Role.TECHNICIAN, "", None)
    assert refused.value.field == "technician_id"
    assert check_binding(Role.TECHNICIAN, " tech-amir ", None) == ("tech-amir", None)


def test_a_customer_contact_must_be_bound_to_a_customer_and_only_that():
    with pytest.raises(AccountRejectedError, match="must name their customer"):
        check_binding(Role.CUSTOMER, None, None)
    with pytest.raises(AccountRejectedError, match="only technician accounts"):
        check_binding(Role.CUSTOMER, "tech-amir", "cust-1")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DISPATCHER, Role.ANALYST])
def test_office_roles_are_not_bound(role):
    with pytest.raises(AccountRejectedError):
        check_binding(role, "tech-amir", None)
    assert check_binding(role, None, "") == (None, None)


def test_password_rules_name_what_is_wrong():
    with pytest.raises(AccountRejectedError, match="at least 12"):
        check_password("short", min_length=12, username="dan")
    with pytest.raises(AccountRejectedError, match="not be the username"):
        check_password("dan.dispatcher", min_length=12, username="dan.dispatcher")
    check_password("a sentence long enough", min_length=12, username="dan")


def test_the_fifth_wrong_password_in_a_row_locks_for_the_policys_duration():
    failures, locked = 0, None
    for _ in range(4):
        failures, locked = after_wrong_password(failures, NOW, POLICY)
        assert locked is None
    failures, locked = after_wrong_password(failures, NOW, POLICY)
    assert failures == 5 and locked == NOW + timedelta(minutes=15)


@given(st.integers(min_value=0, max_value=100))
def test_a_lock_comes_exactly_from_the_threshold(before):
    failures, locked = after_wrong_password(before, NOW, POLICY)
    assert failures == before + 1
    assert (locked is not None) == (failures >= POLICY.failures)
