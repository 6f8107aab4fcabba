"""Who may do a job: required skills held and certifications valid on the day of the visit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date


def disqualification(
    skills: Iterable[str],
    certifications: Mapping[str, date],
    required_skills: Iterable[str],
    required_certifications: Iterable[str],
    on: date,
) -> str | None:
    """Why a technician may not do the job on ``on``, or None when they may.

    A certification counts up to and including its ``expires_on`` day.
    """
    held = set(skills)
    missing = sorted(set(required_skills) - held)
    if missing:
        return f"lacks skill {', '.join(missing)}"
    for name in sorted(set(required_certifications)):
        expires = certifications.get(name)
        if expires is None:
            return f"lacks certification {name}"
        if expires < on:
            return f"certification {name} expired on {expires.isoformat()}"
    return None
