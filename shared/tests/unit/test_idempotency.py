"""One idempotency semantics: a key is scoped to its command and its caller."""

from sqlalchemy import MetaData

from jobstream.idempotency import IdempotentCall, define_idempotency_table

TABLE = define_idempotency_table(MetaData())


def call(command: str, caller: str, key: str | None, payload: object) -> IdempotentCall:
    return IdempotentCall.of(TABLE, command=command, caller=caller, key=key, payload=payload)


def test_two_callers_or_two_commands_never_share_a_key():
    mine = call("assign_job", "alice", "k1", {"a": 1})
    assert mine.scope != call("assign_job", "bob", "k1", {"a": 1}).scope
    assert mine.scope != call("move_job", "alice", "k1", {"a": 1}).scope


def test_the_same_body_in_another_key_order_is_the_same_request():
    assert (
        call("c", "u", "k", {"a": 1, "b": 2}).digest == call("c", "u", "k", {"b": 2, "a": 1}).digest
    )
    assert call("c", "u", "k", {"a": 1}).digest != call("c", "u", "k", {"a": 2}).digest


def test_an_empty_key_is_no_key():
    assert call("c", "u", "", {}).key is None
