"""Settings shared by every service: Kafka, PostgreSQL and authentication.

Each accepts the plain variables a platform team expects (``KAFKA_BOOTSTRAP_SERVERS``,
``DATABASE_URL``, ``JOBSTREAM_JWT_SECRET``); a service's own settings may override them
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
    """How bearer tokens are verified."""

    model_config = SettingsConfigDict(extra="ignore")

    jwt_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("JOBSTREAM_JWT_SECRET"),
        description="HMAC secret for HS256 tokens; required, never logged.",
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
