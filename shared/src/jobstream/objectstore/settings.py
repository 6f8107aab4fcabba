"""Object store configuration, shared by every service that keeps files."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ObjectStoreSettings(BaseSettings):
    """``JOBSTREAM_OBJECT_STORE=local`` (default, a directory) or ``s3`` (S3-compatible)."""

    model_config = SettingsConfigDict(extra="ignore")

    backend: str = Field(
        default="local",
        pattern=r"^(local|s3)$",
        validation_alias=AliasChoices("JOBSTREAM_OBJECT_STORE"),
        description="local (a directory) or s3 (any S3-compatible service).",
    )
    local_root: str = Field(
        default="var/objects",
        validation_alias=AliasChoices("JOBSTREAM_OBJECT_STORE_ROOT"),
        description="Directory of the local backend.",
    )
    s3_bucket: str = Field(
        default="",
        validation_alias=AliasChoices("JOBSTREAM_S3_BUCKET"),
        description="Bucket of the s3 backend.",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("JOBSTREAM_S3_ENDPOINT_URL"),
        description="Endpoint of an S3-compatible service (MinIO, Ceph …); None for AWS.",
    )
    s3_region: str | None = Field(
        default=None,
        validation_alias=AliasChoices("JOBSTREAM_S3_REGION"),
        description="Region of the bucket.",
    )
    s3_access_key_id: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("JOBSTREAM_S3_ACCESS_KEY_ID"),
        description="Access key; None to use the environment's credential chain.",
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("JOBSTREAM_S3_SECRET_ACCESS_KEY"),
        description="Secret key, never logged.",
    )
