"""Refusals answer in one documented shape, whatever service raises them."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from jobstream.api.commands import expected_version
from jobstream.api.errors import install_error_handlers
from jobstream.errors import ConflictError, InvalidInputError, NotFoundError, RefusedError


class AlreadyReleasedError(ConflictError):
    """A service's own refusal, answered by its base class's rule."""


def _answer(exc: Exception) -> tuple[int, object]:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/")
    async def refuse() -> None:
        raise exc

    response = TestClient(app).get("/")
    return response.status_code, response.json()


def test_invalid_input_is_a_422_shaped_like_fastapis_validation_errors() -> None:
    assert _answer(InvalidInputError("must be positive", field="amount_minor")) == (
        422,
        {
            "detail": [
                {"loc": ["body", "amount_minor"], "msg": "must be positive", "type": "value_error"}
            ]
        },
    )
    assert _answer(InvalidInputError("unknown time zone", field="tz", location="query"))[1] == {
        "detail": [{"loc": ["query", "tz"], "msg": "unknown time zone", "type": "value_error"}]
    }
    assert _answer(InvalidInputError("the file is empty"))[1] == {
        "detail": [{"loc": ["body"], "msg": "the file is empty", "type": "value_error"}]
    }


def test_conflict_and_not_found_answer_with_the_message() -> None:
    assert _answer(AlreadyReleasedError("already released")) == (
        409,
        {"detail": "already released"},
    )
    assert _answer(NotFoundError("no such job")) == (404, {"detail": "no such job"})
    assert _answer(RefusedError("refused")) == (409, {"detail": "refused"})


def test_a_refusal_with_facts_carries_them_beside_the_message() -> None:
    status, body = _answer(ConflictError("breaks hard constraints", violations=["overlap"]))
    assert (status, body) == (
        409,
        {"detail": {"error": "breaks hard constraints", "violations": ["overlap"]}},
    )
    assert _answer(ConflictError("no", field="start"))[1] == {
        "detail": {"error": "no", "field": "start"}
    }


def test_if_match_takes_a_version_in_any_of_its_spellings() -> None:
    assert [expected_version(v) for v in ('"3"', 'W/"3"', "3", "*", None)] == [3, 3, 3, None, None]
    try:
        expected_version('"abc"')
    except InvalidInputError as exc:
        assert (exc.location, exc.field) == ("header", "if-match")
    else:
        raise AssertionError("a non-numeric If-Match must be refused")
