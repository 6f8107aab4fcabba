"""The front door's settings (``WEB_*``), built by get_settings() at start-up, never at import."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("intake", "dispatch", "fieldupdates", "billing", "reporting")


class WebSettings(BaseSettings):
    """Where the services are, how sessions behave, and the optional OpenID provider."""

    model_config = SettingsConfigDict(env_prefix="WEB_", extra="ignore")

    intake_url: str = Field(default="http://127.0.0.1:8001", description="Intake's API.")
    dispatch_url: str = Field(default="http://127.0.0.1:8002", description="Dispatch's API.")
    fieldupdates_url: str = Field(default="http://127.0.0.1:8003", description="Fieldupdates' API.")
    billing_url: str = Field(default="http://127.0.0.1:8004", description="Billing's API.")
    reporting_url: str = Field(default="http://127.0.0.1:8005", description="Reporting's API.")
    upstream_timeout_s: float = Field(
        default=15.0, gt=0, description="How long a call to a service may take."
    )
    service_token_ttl_s: int = Field(
        default=300,
        ge=60,
        le=3600,
        description="Lifetime of the token the front door mints for a signed-in user's calls.",
    )

    public_url: str = Field(
        default="",
        description="The origin browsers use (https://jobs.example.com). Empty: taken from each "
        "request. Cookies are Secure and named __Host- when it (or the request) is https.",
    )
    session_idle_minutes: int = Field(
        default=8 * 60, ge=5, description="A session unused this long ends."
    )
    session_max_hours: int = Field(
        default=12, ge=1, le=24 * 30, description="A session ends this long after sign-in."
    )
    lockout_failures: int = Field(
        default=5, ge=1, description="Wrong passwords in a row that lock an account."
    )
    lockout_minutes: int = Field(default=15, ge=1, description="How long a lockout lasts.")
    sign_in_per_minute_per_client: int = Field(
        default=20,
        ge=1,
        description="Sign-in attempts one client address may make per minute (per process).",
    )
    password_min_length: int = Field(default=12, ge=8, le=128, description="Password rule.")

    oidc_issuer: str = Field(
        default="",
        description="OpenID Connect issuer URL. Set with client id and secret to offer "
        "sign-in through that provider.",
    )
    oidc_client_id: str = Field(default="", description="OIDC client id.")
    oidc_client_secret: SecretStr = Field(
        default=SecretStr(""), description="OIDC client secret (confidential client)."
    )
    oidc_scopes: str = Field(default="openid profile email", description="Scopes asked for.")
    oidc_role_claim: str = Field(
        default="jobstream_role",
        description="Claim holding the Jobstream role (a string or a list; dotted paths such "
        "as realm_access.roles are followed; the first known role wins).",
    )
    oidc_technician_claim: str = Field(
        default="technician_id", description="Claim binding a technician account."
    )
    oidc_customer_claim: str = Field(
        default="customer_id", description="Claim binding a customer contact account."
    )
    oidc_only: bool = Field(
        default=False,
        description="Refuse password sign-in: the provider replaces the built-in accounts.",
    )
    oidc_label: str = Field(
        default="your organisation's sign-in", description="Shown on the sign-in button."
    )

    map_tile_url: str = Field(
        default="",
        description="Map tiles as {z}/{x}/{y} URL template. Empty: the map shows sites, "
        "technicians and routes on a blank background (no tile server needed).",
    )
    map_attribution: str = Field(default="", description="Attribution shown with the tiles.")
    time_zone: str = Field(
        default="Europe/London", description="The business's IANA time zone (the board's day)."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    def service_url(self, service: str) -> str:
        """Base URL of one of the five services."""
        url: str = getattr(self, f"{service}_url")
        return url.rstrip("/")

    @property
    def oidc_enabled(self) -> bool:
        """Whether sign-in through an OpenID provider is offered."""
        return bool(self.oidc_issuer and self.oidc_client_id)


def get_settings() -> WebSettings:
    """The front door's settings from the environment, read when called."""
    return WebSettings()
