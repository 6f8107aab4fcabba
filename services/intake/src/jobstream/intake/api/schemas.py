"""Request and response bodies of intake's API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from jobstream.contracts.common import Channel, Identifier, Priority, SiteAddress


class LogRequestBody(BaseModel):
    """A new request from the office, the portal or another system."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "cust-acme",
                    "site": {
                        "site_id": "site-acme-hq",
                        "address": "1 Deansgate, Manchester M3 1AZ",
                        "location": {"lat": 53.4808, "lon": -2.2426},
                        "time_zone": "Europe/London",
                    },
                    "description": "No heating or hot water; boiler shows fault F28",
                    "priority": "P2",
                    "job_type": "boiler_service",
                    "channel": "phone",
                }
            ]
        },
    )

    customer_id: Identifier
    site: SiteAddress
    description: Annotated[str, Field(min_length=1, max_length=5000)]
    priority: Priority
    job_type: Identifier
    channel: Channel | None = Field(
        default=None, description="Defaults to portal for customers, phone for the office."
    )


class WorkOrderView(BaseModel):
    """A work order as the office and the portal see it."""

    work_order_id: str
    customer_id: str
    site_id: str
    channel: str
    job_type: str
    description: str
    priority: str
    status: str
    logged_at: datetime
    respond_by: datetime
    resolve_by: datetime
    completed_at: datetime | None = None
