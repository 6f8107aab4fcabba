"""Hard violations the strengthened evaluator finds: a baseline's engine against this tree's.

    uv run python benchmarks/dispatch_hard_constraints.py [--baseline REV] [--vroom-timeout S]

The instances are dispatch_field.py's seeded field-service days (100 jobs / 10 technicians,
seeds 0–2, and 200 / 20, seed 0) and its urgent insertion (32 P1 jobs released one at a
time into the 200-job day). The baseline commit's dispatch package plans them in a child
process (its code shadowing this tree's, see baseline.py) and prints the routes; this tree
plans them too, under each drive-home policy; every plan is then judged by this tree's
evaluator (domain/evaluator.py) with the policy set on the technicians. Prints a Markdown
table (by kind: the drive home, deadlines, anything else).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dispatch_field import DAYS, TRAVEL, generate, insertion, metrics, minute, urgent_job

from jobstream.dispatch.domain.insertion import Engine
from jobstream.dispatch.domain.optimiser import optimise
from jobstream.dispatch.domain.plan import JobSpec, Plan, Visit

INSTANCES = [(100, 10, 0), (100, 10, 1), (100, 10, 2), (200, 20, 0)]
URGENT_EVENTS = 32
Routes = list[list[Any]]


def routes_of(p: Plan) -> Routes:
    """The plan's visits as [job, technician, start, end, frozen, forced] rows."""
    return [
        [v.job_id, v.technician_id, v.start, v.end, v.frozen, v.forced]
        for r in p.routes.values()
        for v in r
    ]


def with_policy(p: Plan, policy: str | None) -> Plan:
    """``p`` with every technician under the drive-home ``policy`` (None: as generated)."""
    if policy is None:
        return p
    from jobstream.dispatch.domain.plan import DriveHome

    crews = {k: replace(c, drive_home=DriveHome(policy)) for k, c in p.crews.items()}
    return Plan(p.jobs, crews, p.routes, p.now)


def urgent_plans(base: Plan, seed: int = 0) -> list[tuple[Plan, JobSpec]]:
    """dispatch_field's run (c): each P1 released into a copy of ``base``, frozen near now."""
    rng = random.Random(seed + 1000)
    out = []
    for k in range(URGENT_EVENTS):
        now = minute(DAYS[0], 9) + rng.randrange(0, 5 * 60)
        p = Plan(base.jobs, base.crews, {}, now)
        for route in base.routes.values():
            for v in route:
                p.put(Visit(v.job_id, v.technician_id, v.start, v.end, v.start <= now + 30))
        urgent = urgent_job(rng, k, now)
        p.jobs = {**base.jobs, urgent.job_id: urgent}
        Engine(TRAVEL).place(p, urgent, bump=True)
        out.append((p, urgent))
    return out


def plan_all(policy: str | None, vroom_timeout: float) -> dict[str, Any]:
    """Every method's plans of every instance, as routes (urgent: one list per event)."""
    out: dict[str, Any] = {}
    span = (minute(DAYS[0], 0), minute(DAYS[1], 24))
    for n_jobs, n_techs, seed in INSTANCES:
        key = f"{n_jobs}/{n_techs}/{seed}"
        live = insertion(with_policy(generate(n_jobs, n_techs, seed), policy))
        out[f"insertion {key}"] = routes_of(live)
        vroom = optimise(live.copy(), TRAVEL, span, timeout_s=vroom_timeout).plan
        out[f"insertion + VROOM {key}"] = routes_of(vroom)
        if (n_jobs, seed) == (200, 0):
            out[f"urgent P1 insertion {key}"] = [routes_of(p) for p, _ in urgent_plans(live)]
        print(key, "planned", file=sys.stderr, flush=True)
    return out


def _instance(key: str, policy: str) -> Plan:
    """The instance named at the end of ``key`` ("… 100/10/0"), regenerated under ``policy``."""
    n_jobs, n_techs, seed = (int(x) for x in key.rsplit(" ", 1)[1].split("/"))
    return with_policy(generate(n_jobs, n_techs, seed), policy)


def _verdict(p: Plan, rows: Routes) -> list[str]:
    """This tree's evaluator on ``p`` with the visits ``rows``: one "kind:what" per finding."""
    from jobstream.dispatch.domain.evaluator import violations

    p.routes = {}
    for job_id, tech, start, end, frozen, forced in rows:
        p.put(Visit(job_id, tech, start, end, frozen, forced))
    return [f"{v.kind}:{'home' if 'home by' in v else v.kind}" for v in violations(p, TRAVEL)]


def judged(key: str, plans: Any, policy: str) -> tuple[list[str], float, float]:
    """The evaluator's findings on one instance's plan (or on each of its urgent events).

    With the share of jobs placed and the km per placed job (for urgent events: the share
    of the urgent jobs placed, and 0).
    """
    base = _instance(key, policy)
    if not key.startswith("urgent"):
        found = _verdict(base, plans)
        figures = metrics(base, 0.0)
        return found, figures["placed"], figures["km_per_job"]
    found = []
    placed = 0
    for (p, urgent), rows in zip(urgent_plans(base), plans, strict=True):
        found += _verdict(p, rows)
        placed += p.visit_of(urgent.job_id) is not None
    return found, 100 * placed / len(plans), 0.0


def count(found: list[str]) -> tuple[int, int, int]:
    """(drive home, deadline, other) violations."""
    home = sum(1 for f in found if f.endswith(":home"))
    deadline = sum(1 for f in found if f.startswith("deadline:"))
    return home, deadline, len(found) - home - deadline


def baseline_routes(revision: str, vroom_timeout: float) -> dict[str, Any]:
    """The baseline's plans, made in a child process with its dispatch package."""
    from baseline import shadowing

    with tempfile.TemporaryDirectory() as tmp:
        path = shadowing(revision, ["services/dispatch/src/jobstream/dispatch"], Path(tmp))
        env = {**os.environ, "PYTHONPATH": path + os.pathsep + os.environ.get("PYTHONPATH", "")}
        done = subprocess.run(
            [sys.executable, __file__, "--emit", "--vroom-timeout", str(vroom_timeout)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    return dict(json.loads(done.stdout))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", default="b2ca3b1", help="the commit to compare with")
    parser.add_argument("--vroom-timeout", type=float, default=10.0)
    parser.add_argument("--emit", action="store_true", help="(child) print this code's plans")
    args = parser.parse_args()
    if args.emit:
        json.dump(plan_all(None, args.vroom_timeout), sys.stdout)
        return 0
    before = baseline_routes(args.baseline, args.vroom_timeout)
    lines = [
        "| method | instances | policy | before: home / deadline / other | placed %, km/job "
        "| after: home / deadline / other | placed %, km/job |",
        "|---|---|---|---|---|---|---|",
    ]
    for policy in ("in_overtime", "in_shift"):
        after = plan_all(policy, args.vroom_timeout)
        for method in ("insertion", "insertion + VROOM", "urgent P1 insertion"):
            keys = [k for k in after if k.rsplit(" ", 1)[0] == method]
            cells = []
            for plans in (before, after):
                found: list[str] = []
                shares, kms = [], []
                for k in keys:
                    f, share, km = judged(k, plans[k], policy)
                    found += f
                    shares.append(share)
                    kms.append(km)
                home, deadline, other = count(found)
                cells.append(f"{home} / {deadline} / {other}")
                km_cell = f", {statistics.mean(kms):.2f}" if any(kms) else ""
                cells.append(f"{statistics.mean(shares):.1f}{km_cell}")
            what = ", ".join(k.rsplit(" ", 1)[1] for k in keys)
            if method.startswith("urgent"):
                what += f" ({URGENT_EVENTS} events; placed % = urgent jobs placed)"
            lines.append(f"| {method} | {what} | {policy} | " + " | ".join(cells) + " |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
