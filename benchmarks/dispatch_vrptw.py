"""Dispatch's routing solvers on the literature: Solomon VRPTW and site-dependent VRPTW.

    uv run python benchmarks/dispatch_vrptw.py [--seconds 10] [--all] [--solvers pyvrp,vroom]

Solves each instance once per solver with a fixed time limit (one thread) and reports the
distance gap to the best-known solution in the DIMACS 2021 convention (distances and times
scaled by 10 and truncated, objective = total distance only; file
``bks_pyvrp_instances_dimacs.csv``). The site-dependent instances (Cordeau & Laporte;
eligibility = "only technicians with the skill") use the same file's "exact" convention
(× 1000, rounded), which is what their best-known costs are quoted in. By default a
representative subset runs (two instances per Solomon class and the four site-dependent
ones); ``--all`` runs the 56 Solomon instances as well.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyvrp
import vroom
from pyvrp.stop import MaxRuntime

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import write_section


def _data_dir() -> Path:
    """The shared VRPTW data: $JOBSTREAM_VRPTW_DATA, or ../shared/data/vrptw beside the repo.

    A worktree sits one level deeper, so its grandparent is tried too.
    """
    if os.environ.get("JOBSTREAM_VRPTW_DATA"):
        return Path(os.environ["JOBSTREAM_VRPTW_DATA"])
    repo = Path(__file__).resolve().parents[1]
    for up in (repo.parent, repo.parent.parent):
        if (up / "shared/data/vrptw").is_dir():
            return up / "shared/data/vrptw"
    raise SystemExit("VRPTW data not found: set JOBSTREAM_VRPTW_DATA")


DATA = _data_dir()
SUBSET = [
    "C101",
    "C105",
    "C201",
    "C205",
    "R101",
    "R105",
    "R201",
    "R205",
    "RC101",
    "RC105",
    "RC201",
    "RC205",
]
SITE_DEPENDENT = ["PR01", "PR02", "PR03", "PR11A"]


def best_known() -> dict[str, float]:
    with (DATA / "bks_pyvrp_instances_dimacs.csv").open() as f:
        return {row["instance"]: float(row["cost"]) for row in csv.DictReader(f)}


def solve_pyvrp(data: pyvrp.ProblemData, seconds: float) -> tuple[float | None, float]:
    started = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(seconds), seed=0, display=False)
    elapsed = time.perf_counter() - started
    return (float(result.cost()) if result.is_feasible() else None), elapsed


def solve_vroom(data: pyvrp.ProblemData, seconds: float) -> tuple[float | None, float]:
    """VROOM on the same integer data: every client must be served, distance = cost."""
    distance = np.asarray(data.distance_matrix(0))
    duration = np.asarray(data.duration_matrix(0))
    problem = vroom.Input()
    problem.set_durations_matrix("car", duration.tolist())
    problem.set_costs_matrix("car", distance.tolist())
    vid = 0
    for vt in data.vehicle_types():
        for _ in range(vt.num_available):
            problem.add_vehicle(
                vroom.Vehicle(
                    vid,
                    start=0,
                    end=0,
                    capacity=list(vt.capacity),
                    time_window=vroom.TimeWindow(vt.tw_early, vt.tw_late),
                )
            )
            vid += 1
    for idx, client in enumerate(data.clients(), start=1):
        problem.add_job(
            vroom.Job(
                idx,
                location=idx,
                default_service=client.service_duration,
                delivery=list(client.delivery),
                time_windows=[vroom.TimeWindow(client.tw_early, client.tw_late)],
            )
        )
    started = time.perf_counter()
    from datetime import timedelta

    solution = problem.solve(exploration_level=5, nb_threads=1, timeout=timedelta(seconds=seconds))
    elapsed = time.perf_counter() - started
    routes = solution.routes
    if len(solution.unassigned) if hasattr(solution, "unassigned") else False:
        return None, elapsed
    served = routes[routes["type"] == "job"]
    if len(served) != data.num_clients:
        return None, elapsed
    total = 0
    for _vehicle, steps in routes.groupby("vehicle_id"):
        path = steps["location_index"].astype(int).tolist()
        total += sum(int(distance[a, b]) for a, b in itertools.pairwise(path))
    return float(total), elapsed


def _child(conn, solver: str, path: str, round_func: str, seconds: float) -> None:  # type: ignore[no-untyped-def]
    data = pyvrp.read(path, round_func=round_func)
    fn = solve_pyvrp if solver == "pyvrp" else solve_vroom
    conn.send(fn(data, seconds))
    conn.close()


def guarded(solver: str, path: Path, round_func: str, seconds: float) -> tuple[float | None, float]:
    """Solve in a child process, killed after 3 × the limit + 15 s.

    PyVRP 0.14 can ignore MaxRuntime on some instances (PyVRP issue #1045). Returns
    (nan, limit) when killed.
    """
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(child, solver, str(path), round_func, seconds))
    process.start()
    hard = 3 * seconds + 15
    if parent.poll(hard):
        result: tuple[float | None, float] = parent.recv()
        process.join()
        return result
    process.kill()
    process.join()
    return float("nan"), hard


# (instance, data folder, best-known cost, per solver (cost or None, seconds))
Row = tuple[str, str, float, dict[str, tuple[float | None, float]]]


def _solve_all(
    names: list[str], solvers: list[str], bks: dict[str, float], seconds: float
) -> list[Row]:
    """Every instance solved by every solver that can take it, printing each gap as it goes."""
    rows: list[Row] = []
    for name in names:
        site = name in SITE_DEPENDENT
        folder = "sdvrptw" if site else "solomon"
        path = DATA / folder / f"{name}.vrp"
        round_func = "exact" if site else "dimacs"
        # DIMACS costs are in tenths; the csv quotes them in units.
        reference = bks[name] if site else bks[name] * 10
        results: dict[str, tuple[float | None, float]] = {}
        for solver in solvers:
            if solver == "vroom" and site:
                continue  # VROOM has no maximum route duration, which these instances need
            results[solver] = guarded(solver, path, round_func, seconds)
            cost = results[solver][0]
            gap = "infeasible" if cost is None else f"{(cost - reference) / reference * 100:.2f} %"
            print(f"{name:6} {solver:6} {gap}", flush=True)
        rows.append((name, folder, reference, results))
    return rows


def _gap(cost: float | None, ref: float) -> str:
    if cost is not None and math.isnan(cost):
        return "no answer: killed at 3 × the limit + 15 s (PyVRP #1045)"
    return "no feasible plan" if cost is None else f"{(cost - ref) / ref * 100:.2f} %"


def _answered(cost: float | None) -> bool:
    return cost is not None and not math.isnan(cost)


def _table(rows: list[Row], solvers: list[str]) -> list[str]:
    """The table of every instance's best-known cost and each solver's gap to it."""
    lines = [
        "| instance | best known | " + " | ".join(f"{s} gap" for s in solvers) + " |",
        "|---|---|" + "---|" * len(solvers),
    ]
    for name, folder, ref, results in rows:
        cells = [_gap(*results[s][:1], ref) if s in results else "—" for s in solvers]
        shown = ref if folder == "sdvrptw" else ref / 10
        lines.append(f"| {name} | {shown:g} | " + " | ".join(cells) + " |")
    return lines


def _summary(rows: list[Row], solver: str) -> list[str]:
    """The solver's mean, median and worst gap on each family of instances it ran."""
    lines = []
    for label, wanted in (("Solomon", "solomon"), ("site-dependent", "sdvrptw")):
        gaps = [
            (results[solver][0] - ref) / ref * 100
            for _n, folder, ref, results in rows
            if folder == wanted and solver in results and _answered(results[solver][0])
        ]
        failed = sum(
            1
            for _n, folder, _ref, results in rows
            if folder == wanted and solver in results and not _answered(results[solver][0])
        )
        if gaps or failed:
            lines.append("")
            lines.append(
                f"{solver}, {label}: mean gap {statistics.mean(gaps):.2f} %, "
                f"median {statistics.median(gaps):.2f} %, worst {max(gaps):.2f} % over "
                f"{len(gaps)} instances"
                + (f"; {failed} without a feasible plan in time" if failed else "")
                if gaps
                else f"{solver}, {label}: no feasible plan on {failed} instances"
            )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--all", action="store_true", help="all 56 Solomon instances")
    parser.add_argument("--solvers", default="pyvrp,vroom")
    args = parser.parse_args()
    solvers = args.solvers.split(",")
    bks = best_known()
    names = sorted(p.stem for p in (DATA / "solomon").glob("*.vrp")) if args.all else SUBSET
    load_before = os.getloadavg()
    rows = _solve_all(names + SITE_DEPENDENT, solvers, bks, args.seconds)
    load_after = os.getloadavg()
    lines = [
        f"Time limit {args.seconds:.0f} s per instance and solver, one thread, seed 0. Best-known "
        "costs from `bks_pyvrp_instances_dimacs.csv`: Solomon in the DIMACS 2021 convention "
        "(distance only, × 10 truncated), site-dependent PR instances in the exact convention "
        "(× 1000 rounded). "
        + (
            "All 56 Solomon instances."
            if args.all
            else "A representative subset (two instances per Solomon class) — the full set takes "
            "about 20 minutes of two shared cores; run it with `--all`."
        )
        + " VROOM is not run on the PR instances: it has no maximum route duration, which "
        "they impose. The live insertion engine is not a VRPTW solver (no capacities, no "
        "improvement phase) and is not listed here.",
        "",
        *_table(rows, solvers),
    ]
    for solver in solvers:
        lines += _summary(rows, solver)
    lines.append("")
    lines.append(
        f"Machine load (1-minute average) before / after: {load_before[0]:.2f} / "
        f"{load_after[0]:.2f} — other engineers' work shares these two cores."
    )
    command = (
        "uv run python benchmarks/dispatch_vrptw.py --seconds "
        + f"{args.seconds:g}"
        + (" --all" if args.all else "")
    )
    write_section(
        "dispatch-vrptw",
        "Dispatch: routing solvers on Solomon and site-dependent VRPTW",
        command,
        "\n".join(lines),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
