"""Job type templates: what a kind of job needs (skills, certifications, duration)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobType:
    """A template the office starts a work order from."""

    code: str
    description: str
    required_skills: tuple[str, ...]
    required_certifications: tuple[str, ...]
    estimated_duration_minutes: int


JOB_TYPES: dict[str, JobType] = {
    jt.code: jt
    for jt in (
        JobType("boiler_service", "Annual gas boiler service", ("gas_boiler",), ("gas_safe",), 90),
        JobType(
            "boiler_replacement", "Gas boiler replacement", ("gas_boiler",), ("gas_safe",), 480
        ),
        JobType("leak_repair", "Water leak repair", ("plumbing",), (), 60),
        JobType("hvac_maintenance", "HVAC planned maintenance", ("hvac",), ("f_gas",), 120),
        JobType("electrical_fault", "Electrical fault finding", ("electrical",), (), 60),
    )
}
