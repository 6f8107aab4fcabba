"""Settings shared by every service: Kafka, PostgreSQL and authentication.

Each accepts the plain variables a platform team expects (``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``, ``JOBSTREAM_JWKS_URL``); a service's own settings may override them
with its prefix (``INTAKE_DATABASE_URL``).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """Where the broker is and how this process talks to it."""

    model_config = SettingsConfigDict(extra="ignore")

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "JOBSTREAM_KAFKA_BOOTSTRAP_SERVERS"
        ),
        description="Comma-separated host:port list of Kafka brokers.",
    )
    replication_factor: int = Field(
        default=1,
        validation_alias=AliasChoices("KAFKA_REPLICATION_FACTOR"),
        description="Replication factor used when this process creates topics.",
    )


class DatabaseSettings(BaseSettings):
    """The service's own PostgreSQL database."""

    model_config = SettingsConfigDict(extra="ignore")

    url: SecretStr = Field(
        default=SecretStr("postgresql+psycopg://jobstream:jobstream@127.0.0.1:55432/jobstream"),
        validation_alias=AliasChoices("DATABASE_URL", "JOBSTREAM_DATABASE_URL"),
        description="SQLAlchemy URL of this service's database (psycopg 3 driver).",
    )
    pool_size: int = Field(default=10, description="Connections kept open per process.")


class AuthSettings(BaseSettings):
    """How bearer tokens are signed and verified (RS256 with published keys, ADR 0071).

    Services only verify: they need ``JOBSTREAM_JWKS_URL``. Whoever mints tokens (the web
    front door, ``jobstream token``, the simulator, tests) also needs the private key set in
    ``JOBSTREAM_SIGNING_KEYS``; services never see it.
    """

    model_config = SettingsConfigDict(extra="ignore")

    jwks_url: str = Field(
        default="",
        validation_alias=AliasChoices("JOBSTREAM_JWKS_URL"),
        description="Where the public signing keys are published (JWKS): an http(s) URL, "
        "usually the front door's /.well-known/jwks.json, or a file:// URL.",
    )
    jwks_cache_s: float = Field(
        default=300.0,
        validation_alias=AliasChoices("JOBSTREAM_JWKS_CACHE_S"),
        gt=0,
        description="How long fetched keys are trusted before they are fetched again.",
    )
    jwks_refresh_min_s: float = Field(
        default=5.0,
        validation_alias=AliasChoices("JOBSTREAM_JWKS_REFRESH_MIN_S"),
        ge=0,
        description="At most one fetch per this many seconds when a token names an unknown key "
        "(a rotated key is picked up at once; a flood of bad tokens cannot hammer the issuer).",
    )
    signing_keys: str = Field(
        default="",
        validation_alias=AliasChoices("JOBSTREAM_SIGNING_KEYS"),
        description="Path of the private key set (JSON, `jobstream keys generate`) used to "
        "sign tokens; only token issuers need it.",
    )
    jwt_issuer: str = Field(
        default="jobstream",
        validation_alias=AliasChoices("JOBSTREAM_JWT_ISSUER"),
        description="Expected `iss` claim.",
    )
    jwt_audience: str = Field(
        default="jobstream",
        validation_alias=AliasChoices("JOBSTREAM_JWT_AUDIENCE"),
        description="Expected `aud` claim.",
    )


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver whatever scheme the operator wrote."""
    for prefix in ("postgresql+psycopg2://", "postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
