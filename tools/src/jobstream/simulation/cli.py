"""`jobstream simulate`: a simulated business day against a running stack or one it starts."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from jobstream.auth.keys import use_key_files
from jobstream.simulation.api import Api
from jobstream.simulation.runner import Outcome, simulate
from jobstream.simulation.scenario import Sizes

if TYPE_CHECKING:
    from jobstream.simulation.faults import FaultyDay

# Faults come after office rounds 1 and 2, so a day with faults needs a third round after them.
MIN_WAVES_WITH_FAULTS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options."""
    parser.add_argument(
        "--base-host",
        default="http://127.0.0.1",
        help="where the `make up` services listen (ports 8001-8005)",
    )
    parser.add_argument(
        "--start-stack",
        action="store_true",
        help="start five service processes of its own (fresh databases and "
        "topics on the test broker and PostgreSQL) and remove them afterwards",
    )
    parser.add_argument(
        "--faults",
        action="store_true",
        help="run the day on a private Kafka and PostgreSQL of its own (under a temporary "
        "directory, other ports) and, between office rounds, inject duplicated and malformed "
        "records, SIGKILL each service in turn, restart the broker and PostgreSQL; then check "
        "the same invariants and that the dead letters are exactly the malformed records",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--technicians", type=int, default=12)
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument(
        "--offline-share",
        type=float,
        default=0.3,
        help="share of technicians whose devices sync late",
    )
    parser.add_argument("--waves", type=int, default=3, help="office rounds in the day")
    parser.add_argument(
        "--seconds-per-minute",
        type=float,
        default=0.02,
        help="seconds of device time per simulated minute of field work (compression); the "
        "run waits at the end until every device's clock is past, so a larger value makes "
        "a full-size day minutes longer",
    )
    parser.add_argument("--payment-share", type=float, default=0.5)
    parser.add_argument("--tag", default=None, help="id prefix (default: random)")
    parser.add_argument(
        "--exclusive",
        action="store_true",
        help="the stack holds only this run: also compare the backlog",
    )
    parser.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to wait for any one thing to happen"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")


def print_outcome(outcome: Outcome) -> None:
    """The summary, then every failed invariant."""
    summary = outcome.summary()
    for key, value in summary.items():
        print(f"{key:28} {value}")
    for invariant, count in sorted(outcome.report.checked.items()):
        print(f"  checked {count:6}  {invariant}")
    for rejection in outcome.ledger.unexpected_rejections[:20]:
        print(f"  rejected action: {rejection}")
    if outcome.report.failures:
        print(f"\n{len(outcome.report.failures)} INVARIANT(S) FAILED:", file=sys.stderr)
        for failure in outcome.report.failures:
            print(f"  {failure}", file=sys.stderr)
    else:
        print("\nall invariants held")


def _sizes(args: argparse.Namespace) -> Sizes:
    return Sizes(
        technicians=args.technicians,
        requests=args.requests,
        offline_share=args.offline_share,
        waves=args.waves,
        seconds_per_minute=args.seconds_per_minute,
        payment_share=args.payment_share,
    )


async def _run(args: argparse.Namespace) -> Outcome:
    sizes = _sizes(args)
    tag = args.tag or secrets.token_hex(3)
    if not args.start_stack:
        api = Api.local(args.base_host, retry_for_s=args.timeout)
        try:
            return await simulate(
                api,
                seed=args.seed,
                sizes=sizes,
                tag=tag,
                exclusive=args.exclusive,
                timeout_s=args.timeout,
            )
        finally:
            await api.close()
    from jobstream.simulation.processes import ServiceStack
    from jobstream.testing.infra import find_infra

    with find_infra() as infra, tempfile.TemporaryDirectory(prefix="jobstream-sim-") as logs:
        stack = ServiceStack(infra, Path(logs))
        try:
            await stack.create()
            stack.start_all()
            api = Api(stack.urls, retry_for_s=args.timeout)
            try:
                return await simulate(
                    api,
                    seed=args.seed,
                    sizes=sizes,
                    tag=tag,
                    exclusive=True,
                    timeout_s=args.timeout,
                )
            finally:
                await api.close()
        finally:
            await stack.destroy()


async def _run_with_faults(args: argparse.Namespace, sizes: Sizes) -> FaultyDay:
    from jobstream.simulation.faults import day_with_faults

    with tempfile.TemporaryDirectory(prefix="jobstream-faults-") as home:
        return await day_with_faults(
            Path(home),
            seed=args.seed,
            sizes=sizes,
            tag=args.tag or secrets.token_hex(3),
            timeout_s=args.timeout,
        )


def _ensure_signing_keys(own_stack: bool) -> str | None:
    """Tokens must be signed with a key the services trust; answers an error.

    The key set is a fresh one for a stack this command starts (its processes inherit the
    public half), else the set `make up` made.
    """
    if os.environ.get("JOBSTREAM_SIGNING_KEYS"):
        return None
    if own_stack:
        use_key_files(tempfile.mkdtemp(prefix="jobstream-simulate-keys-"))
        return None
    from jobstream.testing.infra import local_stack_run_dir

    made_by_make_up = local_stack_run_dir() / "signing-keys.json"
    if made_by_make_up.exists():
        os.environ["JOBSTREAM_SIGNING_KEYS"] = str(made_by_make_up)
        return None
    return (
        "JOBSTREAM_SIGNING_KEYS is not set and no `make up` stack was found: point it at the "
        "key set the services' JWKS publishes, or pass --start-stack or --faults"
    )


def _interrupt(_signum: int, _frame: object) -> None:
    # SIGTERM unwinds like Ctrl-C, so the stack, databases, topics and private broker this
    # command made are removed on the way out.
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Run the day; exit 1 when any invariant failed."""
    signal.signal(signal.SIGTERM, _interrupt)
    problem = _ensure_signing_keys(own_stack=args.start_stack or args.faults)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.faults:
        if args.waves < MIN_WAVES_WITH_FAULTS:
            print(
                f"--faults needs --waves {MIN_WAVES_WITH_FAULTS} or more "
                "(faults come after rounds 1 and 2)"
            )
            return 2
        day = asyncio.run(_run_with_faults(args, _sizes(args)))
        outcome = day.outcome
        print_outcome(outcome)
        for what, seconds in day.recovery_seconds.items():
            print(f"  recovered from {what:14} in {seconds:5.1f} s")
        print(
            f"  duplicates injected {day.injected.duplicates}, "
            f"malformed {len(day.injected.malformed)}"
        )
        for problem in day.problems()[len(outcome.report.failures) :]:
            print(f"  {problem}", file=sys.stderr)
        summary = {
            **outcome.summary(),
            "recovery_seconds": {k: round(v, 1) for k, v in day.recovery_seconds.items()},
            "duplicates_injected": day.injected.duplicates,
            "malformed_injected": len(day.injected.malformed),
            "dead_letter_problems": day.dead_letter_problems,
        }
        ok = day.ok
    else:
        outcome = asyncio.run(_run(args))
        print_outcome(outcome)
        summary = outcome.summary()
        ok = outcome.report.ok
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if ok else 1
