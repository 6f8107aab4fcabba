"""Intake's routers."""

from fastapi import APIRouter

from jobstream.intake.api.routes import email, maintenance, records, work_orders


def routers() -> list[APIRouter]:
    """Every router of the intake API."""
    return [work_orders.router, records.router, email.router, maintenance.router]
