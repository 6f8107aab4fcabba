"""Job type templates: what a kind of job needs before anyone sets off to do it."""

from __future__ import annotations

from dataclasses import dataclass

from jobstream.contracts.common import AnswerType, ChecklistItemSpec, ChecklistTemplate, PartSpec


@dataclass(frozen=True)
class JobType:
    """A template the office starts a work order from.

    ``required_certifications`` is a floor: the office may add certifications to a work
    order but never drop these (a gas job always needs a Gas Safe registered engineer).
    """

    code: str
    description: str
    required_skills: tuple[str, ...]
    required_certifications: tuple[str, ...]
    estimated_duration_minutes: int
    parts: tuple[PartSpec, ...] = ()
    safety_requirements: tuple[str, ...] = ()
    checklist: ChecklistTemplate | None = None
    needs_approval: bool = False


def _item(
    item_id: str, label: str, answer: AnswerType, unit: str | None = None
) -> ChecklistItemSpec:
    return ChecklistItemSpec(item_id=item_id, label=label, answer_type=answer, unit=unit)


def _part(sku: str, description: str, quantity: int = 1, unit: str = "each") -> PartSpec:
    return PartSpec(sku=sku, description=description, quantity_milli=quantity * 1000, unit=unit)


_GAS_SAFETY = (
    "Gas Safe registered engineer only",
    "Check for gas escape before starting; isolate gas supply",
    "Carbon monoxide alarm present and tested on leaving",
)

_GAS_CHECKLIST = ChecklistTemplate(
    template_id="gas-appliance-v1",
    title="Gas appliance safety record",
    items=(
        _item("operating_pressure", "Operating pressure", AnswerType.NUMBER, "mbar"),
        _item("flue_check", "Flue flow and spillage test passed", AnswerType.YES_NO),
        _item("co_reading", "Flue gas CO/CO2 ratio", AnswerType.NUMBER, "ratio"),
        _item("co_alarm", "CO alarm fitted and working", AnswerType.YES_NO),
        _item("appliance_photo", "Photo of the appliance data plate", AnswerType.PHOTO),
    ),
)

JOB_TYPES: dict[str, JobType] = {
    jt.code: jt
    for jt in (
        JobType(
            code="boiler_service",
            description="Annual gas boiler service",
            required_skills=("gas_boiler",),
            required_certifications=("gas_safe",),
            estimated_duration_minutes=90,
            safety_requirements=_GAS_SAFETY,
            checklist=_GAS_CHECKLIST,
        ),
        JobType(
            code="boiler_repair",
            description="Gas boiler breakdown repair",
            required_skills=("gas_boiler",),
            required_certifications=("gas_safe",),
            estimated_duration_minutes=120,
            safety_requirements=_GAS_SAFETY,
            checklist=_GAS_CHECKLIST,
        ),
        JobType(
            code="boiler_replacement",
            description="Gas boiler replacement",
            required_skills=("gas_boiler", "plumbing"),
            required_certifications=("gas_safe",),
            estimated_duration_minutes=480,
            parts=(
                _part("BOILER-COMBI-30KW", "Combination boiler 30 kW"),
                _part("FLUE-KIT-STD", "Standard horizontal flue kit"),
                _part("FILTER-MAG-22", "Magnetic system filter 22 mm"),
                _part("INHIB-1L", "Central heating inhibitor", 1, "litre"),
            ),
            safety_requirements=(
                *_GAS_SAFETY,
                "Two-person lift for the old boiler",
                "Register the installation with Gas Safe (Building Regulations notification)",
            ),
            checklist=_GAS_CHECKLIST,
            needs_approval=True,
        ),
        JobType(
            code="leak_repair",
            description="Water leak repair",
            required_skills=("plumbing",),
            required_certifications=(),
            estimated_duration_minutes=60,
            safety_requirements=("Isolate the water supply; check for electrics near the leak",),
            checklist=ChecklistTemplate(
                template_id="leak-repair-v1",
                title="Leak repair sheet",
                items=(
                    _item("source_found", "Source of the leak found", AnswerType.YES_NO),
                    _item("pressure_test", "System holds pressure after repair", AnswerType.YES_NO),
                    _item("damage_photo", "Photo of the damage", AnswerType.PHOTO),
                ),
            ),
        ),
        JobType(
            code="hvac_maintenance",
            description="HVAC planned maintenance",
            required_skills=("hvac",),
            required_certifications=("f_gas",),
            estimated_duration_minutes=120,
            parts=(_part("FILTER-G4-592", "G4 panel filter 592x592", 4),),
            safety_requirements=("F-Gas certified engineer for refrigerant circuits",),
            checklist=ChecklistTemplate(
                template_id="hvac-ppm-v1",
                title="Air handling unit maintenance",
                items=(
                    _item("filters_changed", "Filters changed", AnswerType.YES_NO),
                    _item("refrigerant_leak_check", "Refrigerant leak check", AnswerType.YES_NO),
                    _item("supply_temp", "Supply air temperature", AnswerType.NUMBER, "°C"),
                ),
            ),
        ),
        JobType(
            code="electrical_fault",
            description="Electrical fault finding",
            required_skills=("electrical",),
            required_certifications=("18th_edition",),
            estimated_duration_minutes=60,
            safety_requirements=("Safe isolation procedure: prove dead before work",),
        ),
        JobType(
            code="electrical_rewire",
            description="Full or partial rewire",
            required_skills=("electrical",),
            required_certifications=("18th_edition",),
            estimated_duration_minutes=24 * 60,
            safety_requirements=(
                "Safe isolation procedure: prove dead before work",
                "Electrical Installation Certificate on completion",
            ),
            needs_approval=True,
        ),
    )
}


def job_type(code: str) -> JobType | None:
    """The template ``code``, or None."""
    return JOB_TYPES.get(code)
