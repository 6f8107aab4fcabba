"""No token, password or secret reaches a log line."""

from jobstream.observability.logging import REDACTED, redact_secrets, redact_value


def test_secret_keys_are_redacted():
    out = redact_secrets(
        None, "info", {"event": "x", "authorization": "Bearer abc", "password": "p"}
    )
    assert out["authorization"] == REDACTED
    assert out["password"] == REDACTED
    assert out["event"] == "x"


def test_jwts_and_url_passwords_inside_values_are_redacted():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    text = f"calling with {token} on postgresql://jobstream:hunter2@db/x"
    cleaned = redact_value(text)
    assert token not in cleaned
    assert "hunter2" not in cleaned
    assert "postgresql://jobstream:[redacted]@db/x" in cleaned
