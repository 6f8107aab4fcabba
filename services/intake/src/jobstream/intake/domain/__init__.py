"""Intake's pure domain: work orders, job types and SLA deadlines."""
