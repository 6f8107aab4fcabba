"""`jobstream demo` and `jobstream simulate`: the test bench's commands.

They live in jobstream-tools, the development-only distribution, so that a service image
(which installs jobstream-shared without it) carries no simulator and no demo data. The
`jobstream` command in jobstream-shared adds them when this module is importable.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def _cmd_demo(args: argparse.Namespace) -> int:
    from jobstream.demo import run_demo

    return asyncio.run(run_demo(args.base_host, jobs=args.jobs, timeout_s=args.timeout))


def _cmd_simulate(args: argparse.Namespace) -> int:
    from jobstream.simulation.cli import run

    return run(args)


def add_commands(sub: argparse._SubParsersAction[Any]) -> None:
    """Register `demo` and `simulate` on the `jobstream` command's subparsers."""
    demo = sub.add_parser("demo", help="load demo data through the services' public APIs")
    demo.add_argument("--base-host", default="http://127.0.0.1")
    demo.add_argument("--jobs", type=int, default=3)
    demo.add_argument("--timeout", type=float, default=60.0)
    demo.set_defaults(func=_cmd_demo)

    from jobstream.simulation.cli import add_arguments

    simulate = sub.add_parser(
        "simulate", help="a simulated business day through the public APIs, then its invariants"
    )
    add_arguments(simulate)
    simulate.set_defaults(func=_cmd_simulate)
