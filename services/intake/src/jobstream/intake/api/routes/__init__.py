"""Intake's routers."""

from fastapi import APIRouter

from jobstream.intake.api.routes import (
    attachments,
    email,
    maintenance,
    preview,
    records,
    work_orders,
)


def routers() -> list[APIRouter]:
    """Every router of the intake API."""
    return [
        preview.router,
        work_orders.router,
        attachments.router,
        records.router,
        email.router,
        maintenance.router,
    ]
