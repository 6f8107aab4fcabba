"""One simulated day end to end: drive, let customers pay, settle, check; with a summary."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jobstream.simulation.api import Api
from jobstream.simulation.checks import Checker, Report
from jobstream.simulation.driver import Driver, wait_until_past
from jobstream.simulation.ledger import Ledger
from jobstream.simulation.scenario import Scenario, Sizes, build


@dataclass
class Outcome:
    """A finished run: the scenario, the ground truth and the checks."""

    scenario: Scenario
    ledger: Ledger
    report: Report
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts and figures of the day, for humans and the benchmark report."""
        jobs = list(self.ledger.jobs.values())
        outcomes = [j.outcome for j in jobs if j.outcome is not None]
        channels: dict[str, int] = {}
        for j in jobs:
            channels[j.channel] = channels.get(j.channel, 0) + 1
        return {
            "technicians": len(self.scenario.technicians),
            "requests": len(self.scenario.requests),
            "work_orders": len(jobs),
            "channels": dict(sorted(channels.items())),
            "follow_ups": sum(1 for j in jobs if j.follow_up_of),
            "approved": sum(j.approved for j in jobs),
            "triaged_emails": len(self.ledger.triaged_emails),
            "scheduling_failed": sum(1 for j in jobs if j.failed_reason and not j.technician_id),
            "completed": sum(1 for o in outcomes if o.type == "complete"),
            "incomplete": sum(1 for o in outcomes if o.type == "could_not_complete"),
            "device_actions": sum(len(j.actions) for j in jobs),
            "sync_batches": self.ledger.sync_batches,
            "sync_duplicates_answered": self.ledger.sync_duplicates,
            "claimed_from_other_technicians": len(self.ledger.claimed_from_others),
            "left_with_other_technicians": len(self.ledger.left_with_others),
            "payments": sum(len(j.payments) for j in jobs),
            "unexpected_rejections": len(self.ledger.unexpected_rejections),
            "checks": sum(self.report.checked.values()),
            "failures": len(self.report.failures),
            **self.report.figures,
            **{f"{k}_seconds": round(v, 1) for k, v in self.seconds.items()},
        }


async def simulate(
    api: Api,
    *,
    seed: int,
    sizes: Sizes,
    tag: str,
    exclusive: bool,
    timeout_s: float = 180.0,
    between_waves: Callable[[int], Awaitable[None]] | None = None,
    log: Callable[[str], None] = print,
) -> Outcome:
    """Run the day of ``seed`` against the stack behind ``api`` and check it."""
    today = datetime.now(ZoneInfo("Europe/London")).date()
    scenario = build(seed, tag, today, sizes)
    seconds: dict[str, float] = {}
    t0 = time.monotonic()
    await api.wait_ready(timeout_s)
    driver = Driver(api, scenario, timeout_s=timeout_s, between_waves=between_waves, log=log)
    ledger = await driver.run()
    seconds["day"] = time.monotonic() - t0
    checker = Checker(api, scenario, ledger, exclusive=exclusive, timeout_s=timeout_s)
    await checker.prepare()
    # Reporting judges at min(as_of, now): everything the devices did must be in the past
    # before it is asked, and a payment cannot predate its invoice. Device clocks run ahead
    # of the wall clock by at most the compressed day, so this wait is bounded.
    await wait_until_past(
        max(
            [a.device_time for j in ledger.jobs.values() for a in j.actions],
            default=ledger.started_at,
        ),
        timeout_s,
    )
    await driver.pay()
    ledger.finished_at = datetime.now(UTC)
    t1 = time.monotonic()
    report = await checker.verify()
    seconds["check"] = time.monotonic() - t1
    return Outcome(scenario, ledger, report, seconds)
