"""Fieldupdates' own settings (``FIELDUPDATES_*``), built at call time."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# What each kind of attachment may be. SVG is left out on purpose: it can carry script.
DEFAULT_CONTENT_TYPES: dict[str, tuple[str, ...]] = {
    "photo": ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"),
    "signature": ("image/png", "image/jpeg", "image/webp"),
    "document": ("application/pdf", "text/plain", "text/csv", "image/jpeg", "image/png"),
}


class FieldSettings(BaseSettings):
    """Limits of the technician API."""

    model_config = SettingsConfigDict(env_prefix="FIELDUPDATES_", extra="ignore")

    location_min_interval_s: float = Field(
        default=30.0,
        ge=0,
        description="Keep at most one location ping per technician per this many seconds "
        "of device time; others are answered and dropped.",
    )
    max_attachment_bytes: int = Field(
        default=25 * 1024 * 1024, gt=0, description="Largest attachment accepted (413 above)."
    )
    max_sync_actions: int = Field(
        default=5000, gt=0, description="Most actions accepted in one sync batch."
    )


def get_field_settings() -> FieldSettings:
    """Settings from the environment, read now."""
    return FieldSettings()
