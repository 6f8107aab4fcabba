"""What the simulated business asks for: technicians, customers, requests and device behaviour.

Pure and seeded: the same seed, sizes and tag give the same scenario (ids, bodies, outcomes,
device plans); only the instants depend on when it runs, because intake logs at its own
clock and certification expiry is relative to the day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

ZONE = "Europe/London"
ON_CALL = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]
WEEKDAYS_8_TO_18 = [{"weekday": d, "start": "08:00", "end": "18:00"} for d in range(5)]
LATE = [{"weekday": d, "start": "12:00", "end": "23:59"} for d in range(7)]

# Trades: the skills and certification a crew member of each holds, and the job types
# (with intake's templates' required skills) each can do.
TRADES: dict[str, dict[str, Any]] = {
    "gas": {"skills": ("gas_boiler", "plumbing"), "cert": "gas_safe"},
    "plumbing": {"skills": ("plumbing",), "cert": None},
    "hvac": {"skills": ("hvac", "plumbing"), "cert": "f_gas"},
    "electrical": {"skills": ("electrical",), "cert": "18th_edition"},
}
JOB_TYPES: dict[str, dict[str, Any]] = {
    "boiler_service": {"skills": {"gas_boiler"}, "certs": {"gas_safe"}, "minutes": (60, 100)},
    "boiler_repair": {"skills": {"gas_boiler"}, "certs": {"gas_safe"}, "minutes": (60, 150)},
    "boiler_replacement": {
        "skills": {"gas_boiler", "plumbing"},
        "certs": {"gas_safe"},
        "minutes": (300, 420),
    },
    "leak_repair": {"skills": {"plumbing"}, "certs": set(), "minutes": (30, 90)},
    "hvac_maintenance": {"skills": {"hvac"}, "certs": {"f_gas"}, "minutes": (60, 120)},
    "electrical_fault": {"skills": {"electrical"}, "certs": {"18th_edition"}, "minutes": (30, 90)},
}
REACTIVE = {
    "P1": ("leak_repair", "boiler_repair", "electrical_fault"),
    "P2": ("boiler_repair", "leak_repair", "electrical_fault"),
    "P3": ("boiler_service", "electrical_fault", "leak_repair", "boiler_replacement"),
    "P4": ("boiler_service", "hvac_maintenance"),
}
PRIORITY_MIX = (("P1", 10), ("P2", 25), ("P3", 40), ("P4", 25))
CHANNEL_MIX = (("phone", 35), ("portal", 20), ("api", 20), ("email", 15), ("planned", 10))
# How jobs go, as chances of one draw each. A job's fate is one roll: below COMPLETED it is
# completed, below COMPLETED_OR_INCOMPLETE ended incomplete, else never touched.
COMPLETED = 0.8
COMPLETED_OR_INCOMPLETE = 0.9
SECOND_LABOUR_ENTRY = 0.3
BOUGHT_IN_PART = 0.2
FOLLOW_UP = 0.12  # of completed jobs
ON_HOLD = 0.15
NOT_FIXED_FIRST_TIME = 0.05  # of jobs without a follow-up
SIGNED = 0.6
NOTED = 0.3
NEEDS_VALUE_APPROVAL = 0.08  # of phone and portal requests other than boiler replacements
# Materials a technician may fit: price-book parts (fixed and cost-plus) and one bought-in
# part that is not in the book, priced from its cost.
BOOK_PARTS = (
    ("VALVE-15", "15 mm isolating valve", "each"),
    ("TRV-15", "Thermostatic radiator valve", "each"),
    ("PUMP-CIRC", "Central heating circulating pump", "each"),
    ("PTFE-TAPE", "PTFE thread tape", "each"),
    ("COPPER-15-M", "15 mm copper pipe", "m"),
    ("FUSE-13A", "13 A cartridge fuse", "each"),
    ("PIPE-INSULATION-22", "22 mm pipe insulation", "m"),
    ("REFRIGERANT-R32-KG", "R32 refrigerant", "kg"),
)
BOUGHT_IN = ("SIM-BRACKET", "Stainless bracket bought at the merchant", "each")
APPROVAL_VALUE_MINOR = 150_000  # above intake's default approval limit (£1,000)
WORDS = [
    "kitchen",
    "bathroom",
    "loft",
    "cellar",
    "office",
    "reception",
    "corridor",
    "plantroom",
    "stairwell",
    "landing",
    "ground",
    "first",
    "second",
    "third",
    "flat",
    "unit",
    "block",
    "east",
    "west",
    "north",
    "south",
    "annex",
    "lobby",
]
SYMPTOMS = (
    "dripping steadily",
    "no hot water since morning",
    "tripping the breaker",
    "making a banging noise",
    "pressure dropping overnight",
    "smell near the appliance",
    "intermittent fault reported by staff",
    "annual check requested",
)


@dataclass(frozen=True)
class Sizes:
    """How big the day is."""

    technicians: int = 12
    requests: int = 120
    offline_share: float = 0.3
    waves: int = 3
    # Real seconds of device time per simulated minute of field work (the compression).
    seconds_per_minute: float = 0.1
    payment_share: float = 0.5


@dataclass
class Technician:
    """A crew member as registered with dispatch."""

    technician_id: str
    trade: str
    body: dict[str, Any]
    offline: bool
    # Per certification: the expiry date (checked against the visit's local date).
    certifications: dict[str, date] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)


@dataclass
class Site:
    """A customer's site with its optional asset and contact."""

    site_id: str
    customer_id: str
    body: dict[str, Any]
    asset_id: str | None
    contact_email: str


@dataclass
class Customer:
    """A customer with its sites; some have a contract (intake SLA terms + billing terms)."""

    customer_id: str
    body: dict[str, Any]
    sites: list[Site]
    contract_id: str | None = None


@dataclass
class FieldPlan:
    """What the technician will do on the job, decided up front from the seed."""

    fate: str  # complete | incomplete | untouched
    work_minutes: list[int]  # stated labour entries
    travel_minutes: int
    materials: list[dict[str, Any]]
    hold: bool
    first_time_fix: bool
    follow_up: bool
    next_service_in_days: int | None
    incomplete_reason: str | None
    signature: bool
    note: bool


@dataclass
class Request:
    """One request the business receives."""

    index: int
    wave: int
    channel: str
    priority: str
    job_type: str
    customer: Customer
    site: Site
    description: str
    needs_value_approval: bool
    unmatched_sender: bool
    plan: FieldPlan
    external_reference: str | None = None


@dataclass
class Scenario:
    """Everything the simulation will ask for."""

    seed: int
    tag: str
    today: date
    technicians: list[Technician]
    customers: list[Customer]
    requests: list[Request]
    sizes: Sizes
    payment_picks: random.Random

    def technician(self, technician_id: str) -> Technician:
        """The technician with this id."""
        return next(t for t in self.technicians if t.technician_id == technician_id)


def _weighted(rng: random.Random, mix: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


def _technicians(rng: random.Random, tag: str, today: date, sizes: Sizes) -> list[Technician]:
    trades = list(TRADES)
    out: list[Technician] = []
    for i in range(sizes.technicians):
        trade = trades[i % len(trades)]
        spec = TRADES[trade]
        # The first crew member of each trade is the anchor: on call, certificate valid.
        anchor = i < len(trades)
        skills = {name: rng.randint(2, 5) for name in spec["skills"]}
        certs: dict[str, date] = {}
        if spec["cert"]:
            kind = "valid" if anchor else rng.choice(("valid", "valid", "expired", "expiring"))
            certs[spec["cert"]] = {
                "valid": today + timedelta(days=rng.randint(60, 900)),
                "expired": today - timedelta(days=rng.randint(1, 40)),
                "expiring": today,  # valid today only: never for a visit tomorrow
            }[kind]
        shifts = ON_CALL if anchor or i % 3 else rng.choice((WEEKDAYS_8_TO_18, LATE))
        technician_id = f"tech-{tag}-{i:03d}"
        body = {
            "technician_id": technician_id,
            "name": f"Sim Technician {i:03d} ({trade})",
            "skills": [{"name": n, "level": lvl} for n, lvl in skills.items()],
            "certifications": [
                {"name": n, "expires_on": d.isoformat(), "reference": f"REF-{tag}-{i}"}
                for n, d in certs.items()
            ],
            "home_base": {
                "lat": round(53.48 + rng.uniform(-0.06, 0.06), 5),
                "lon": round(-2.24 + rng.uniform(-0.08, 0.08), 5),
            },
            "time_zone": ZONE,
            "shifts": shifts,
            "overtime_allowed": bool(i % 2),
            "max_overtime_minutes": 60 if i % 2 else 0,
        }
        out.append(
            Technician(
                technician_id=technician_id,
                trade=trade,
                body=body,
                # Spread evenly over the crew (and so over the trades).
                offline=int((i + 1) * sizes.offline_share) > int(i * sizes.offline_share),
                certifications=certs,
                skills=skills,
            )
        )
    return out


def _customers(rng: random.Random, tag: str, count: int) -> list[Customer]:
    customers = []
    for c in range(count):
        customer_id = f"cust-{tag}-{c:03d}"
        sites = []
        for s in range(1 + c % 2):
            site_id = f"site-{tag}-{c:03d}-{s}"
            sites.append(
                Site(
                    site_id=site_id,
                    customer_id=customer_id,
                    body={
                        "site_id": site_id,
                        "customer_id": customer_id,
                        "name": f"Site {s}",
                        "address": f"{10 + c} {rng.choice(WORDS).title()} Street, Manchester",
                        "location": {
                            "lat": round(53.48 + rng.uniform(-0.05, 0.05), 5),
                            "lon": round(-2.24 + rng.uniform(-0.07, 0.07), 5),
                        },
                        "time_zone": ZONE,
                    },
                    asset_id=f"asset-{tag}-{c:03d}-{s}" if s == 0 else None,
                    contact_email=f"facilities.{c}.{s}@sim-{tag}.example",
                )
            )
        customers.append(
            Customer(
                customer_id=customer_id,
                body={
                    "customer_id": customer_id,
                    "name": f"Sim Customer {c:03d}",
                    "billing_address": f"{10 + c} Billing Road, Manchester",
                    "billing_email": f"accounts.{c}@sim-{tag}.example",
                },
                sites=sites,
                # Every fourth customer has a contract: SLA terms in intake, billing terms
                # (call-out included, 30 minutes of labour included) in billing.
                contract_id=f"ctr-{tag}-{c:03d}" if c % 4 == 1 else None,
            )
        )
    return customers


def _field_plan(rng: random.Random, job_type: str, channel: str) -> FieldPlan:
    low, high = JOB_TYPES[job_type]["minutes"]
    roll = rng.random()
    fate = (
        "complete"
        if roll < COMPLETED
        else "incomplete"
        if roll < COMPLETED_OR_INCOMPLETE
        else "untouched"
    )
    entries = [rng.randint(low, high)]
    if rng.random() < SECOND_LABOUR_ENTRY:
        entries.append(rng.randint(10, 45))
    materials = []
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        sku, description, unit = rng.choice(BOOK_PARTS)
        materials.append(
            {
                "sku": sku,
                "description": description,
                "unit": unit,
                "quantity_milli": rng.choice((1000, 1000, 2000, 500, 1500)),
                "source": "van_stock",
            }
        )
    if rng.random() < BOUGHT_IN_PART:
        sku, description, unit = BOUGHT_IN
        materials.append(
            {
                "sku": sku,
                "description": description,
                "unit": unit,
                "quantity_milli": 1000 * rng.randint(1, 3),
                "source": "bought_in",
                "unit_cost_minor": rng.randint(300, 4000),
            }
        )
    follow_up = fate == "complete" and rng.random() < FOLLOW_UP
    return FieldPlan(
        fate=fate,
        work_minutes=entries,
        travel_minutes=rng.randint(10, 40),
        materials=materials,
        hold=rng.random() < ON_HOLD,
        first_time_fix=not follow_up and rng.random() > NOT_FIXED_FIRST_TIME,
        follow_up=follow_up,
        next_service_in_days=365 if channel == "planned" and fate == "complete" else None,
        incomplete_reason=rng.choice(("no_access", "parts_unavailable", "customer_cancelled"))
        if fate == "incomplete"
        else None,
        signature=rng.random() < SIGNED,
        note=rng.random() < NOTED,
    )


def build(seed: int, tag: str, today: date, sizes: Sizes) -> Scenario:
    """The scenario of ``seed`` (ids carry ``tag`` so runs on one stack never collide)."""
    rng = random.Random(seed)
    technicians = _technicians(rng, tag, today, sizes)
    customers = _customers(rng, tag, max(3, sizes.requests // 4))
    requests: list[Request] = []
    emails = 0
    for i in range(sizes.requests):
        channel = _weighted(rng, CHANNEL_MIX)
        if channel == "planned":
            priority, job_type = "P4", rng.choice(("boiler_service", "hvac_maintenance"))
        else:
            priority = _weighted(rng, PRIORITY_MIX)
            job_type = rng.choice(REACTIVE[priority])
        customer = rng.choice(customers)
        site = rng.choice(customer.sites)
        words = " ".join(rng.sample(WORDS, 3))
        description = f"#{i} {job_type.replace('_', ' ')}: {words}, {rng.choice(SYMPTOMS)}"
        unmatched = channel == "email" and emails == 0
        emails += channel == "email"
        requests.append(
            Request(
                index=i,
                wave=min(i * sizes.waves // sizes.requests, sizes.waves - 1),
                channel=channel,
                priority=priority,
                job_type=job_type,
                customer=customer,
                site=site,
                description=description,
                needs_value_approval=channel in ("phone", "portal")
                and job_type != "boiler_replacement"
                and rng.random() < NEEDS_VALUE_APPROVAL,
                unmatched_sender=unmatched,
                plan=_field_plan(rng, job_type, channel),
                external_reference=f"HELPDESK-{seed}-{i}" if channel == "api" else None,
            )
        )
    return Scenario(
        seed=seed,
        tag=tag,
        today=today,
        technicians=technicians,
        customers=customers,
        requests=requests,
        sizes=sizes,
        payment_picks=random.Random(seed * 7919 + 1),
    )
