# ruff: noqa: E501  (the section's table rows read better whole)
"""The front door: the board's first render, event latency, and a password sign-in's cost.

The latency is from an event to it being visible on the board, under intake load.

    make infra-up      # Kafka and PostgreSQL, as the tests use them
    uv run python benchmarks/web_bench.py [--rates 5,20] [--seconds 60] [--renders 5]

Starts the six processes (five services and the front door, `serve` each) on real Kafka and
PostgreSQL in a namespace and databases of their own, and Debian's Chromium; the HTTP load
comes from vegeta (Go, built from the Go module proxy into $JOBSTREAM_HOME/bin on first use),
not from a Python client. Four measurements:

1. Argon2id: the front door's own hasher verifying a password, in this process.
2. Sign-ins per second: vegeta posts the real sign-in form (a valid guard cookie and field,
   the right password) to the one front-door process as fast as four workers can.
3. The board's first render with 100 technicians and 1,000 visits: the page is the real one,
   signed in; its board JSON is made by dispatch's own `board.build` from synthetic rows and
   handed to the page by Playwright in place of dispatch's answer, so the figure is the page's
   (load, script, render), not dispatch's query.
4. Event → visible: P1 requests logged one every two seconds; for each, the time from intake's
   answer (its event already in intake's outbox) until the job's card first appears on a
   board open in Chromium (a MutationObserver in the page stamps it), first on a quiet stack,
   then while vegeta logs requests at each of `--rates` per second (20: the load benchmark's).

Writes the `web` section of docs/benchmarks.md, then stops everything and drops its databases
and topics.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.encoders import jsonable_encoder
from load_stack import CERTIFICATIONS, ON_CALL, SKILLS, Business
from report import percentile, write_section

from jobstream.auth.keys import use_key_files
from jobstream.dispatch import board as dispatch_board
from jobstream.simulation.api import SERVICES
from jobstream.simulation.processes import ServiceStack
from jobstream.testing.infra import find_infra
from jobstream.testing.waiting import wait_until

VEGETA_MODULE = "github.com/tsenart/vegeta/v12@v12.13.0"
CHROMIUM = os.environ.get("JOBSTREAM_CHROMIUM", "/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
USERNAME, PASSWORD = "bench.dispatch", "bench password one two"
# Records, per work order, when the page first showed it (wall clock, milliseconds).
SEEN_SCRIPT = """
window.__seen = {};
new MutationObserver((records) => {
  const now = Date.now();
  for (const r of records) for (const n of r.addedNodes) {
    if (!(n instanceof Element)) continue;
    const found = n.matches('[data-work-order-id]') ? [n] : [];
    for (const e of [...found, ...n.querySelectorAll('[data-work-order-id]')]) {
      const id = e.dataset.workOrderId;
      if (!(id in window.__seen)) window.__seen[id] = now;
    }
  }
}).observe(document, {subtree: true, childList: true});
"""


def home() -> Path:
    return Path(os.environ.get("JOBSTREAM_HOME", Path.home() / ".cache" / "jobstream"))


def vegeta() -> str:
    """The vegeta binary, built from the Go module proxy the first time."""
    found = shutil.which("vegeta") or str(home() / "bin" / "vegeta")
    if not Path(found).exists():
        print(f"building {VEGETA_MODULE} (go install)", flush=True)
        env = {**os.environ, "GOBIN": str(home() / "bin")}
        subprocess.run(["go", "install", VEGETA_MODULE], check=True, env=env)
    return found


def attack(targets: list[dict[str, Any]], *args: str) -> dict[str, Any]:
    """Run vegeta on ``targets`` (its JSON target format); its JSON report."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "targets.jsonl"
        path.write_text("".join(json.dumps(t) + "\n" for t in targets))
        results = subprocess.run(
            [vegeta(), "attack", "-format=json", f"-targets={path}", *args],
            check=True,
            capture_output=True,
        ).stdout
        report = subprocess.run(
            [vegeta(), "report", "-type=json"], input=results, check=True, capture_output=True
        ).stdout
    return dict(json.loads(report))


def target(method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "method": method,
        "url": url,
        "body": base64.b64encode(body).decode(),
        "header": {k: [v] for k, v in headers.items()},
    }


def ms(ns: float) -> str:
    return f"{ns / 1e6:.0f}"


# -- 1 and 2: passwords --------------------------------------------------------------------


def argon2_verify_ms(rounds: int = 30) -> tuple[float, str]:
    from jobstream.web.passwords import _hasher

    stored = _hasher.hash(PASSWORD)
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        _hasher.verify(stored, PASSWORD)
        seconds.append(time.perf_counter() - started)
    params = (
        f"Argon2id, time cost {_hasher.time_cost}, memory {_hasher.memory_cost // 1024} MiB, "
        f"parallelism {_hasher.parallelism}"
    )
    return statistics.median(seconds) * 1000, params


async def sign_in_targets(web: str) -> list[dict[str, Any]]:
    """The sign-in form as a browser posts it: the guard cookie and field of one visit."""
    async with httpx.AsyncClient() as client:
        page = await client.get(f"{web}/sign-in")
        guard = re.search(r'name="guard" value="([^"]+)"', page.text)
        assert guard, "no guard field on the sign-in form"
        cookie = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
    body = f"username={USERNAME}&password={PASSWORD.replace(' ', '+')}&guard={guard[1]}"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
    return [target("POST", f"{web}/sign-in", body.encode(), headers)]


# -- 3: a big board ----------------------------------------------------------------------


def synthetic_board(technicians: int, visits: int, day: datetime) -> dict[str, Any]:
    """What dispatch would answer for a day of ``visits`` jobs across ``technicians``.

    It is made by dispatch's own board code from rows shaped like its query's.
    """
    rng = random.Random(7)
    start = day.replace(hour=7, minute=0, second=0, microsecond=0)
    techs = []
    for n in range(technicians):
        techs.append(
            {
                "technician_id": f"tech-{n:03d}",
                "name": f"Technician {n}",
                "active": True,
                "lat": 53.40 + rng.random() * 0.15,
                "lon": -2.35 + rng.random() * 0.25,
                "located_at": start,
                "profile": {
                    "name": f"Technician {n}",
                    "skills": SKILLS,
                    "certifications": CERTIFICATIONS,
                    "home_base": {"lat": 53.45, "lon": -2.24},
                    "shifts": ON_CALL,
                },
            }
        )
    rows = []
    per_tech = visits // technicians
    for n in range(visits):
        tech = n % technicians
        slot = n // technicians
        window_start = start + timedelta(minutes=slot * (600 // per_tech))
        priority = rng.choice(["P1", "P2", "P3", "P3", "P4"])
        rows.append(
            {
                "work_order_id": f"wo-{n:05d}",
                "priority": priority,
                "state": "dispatched",
                "field_status": rng.choice([None, "acknowledged", "completed"]),
                "technician_id": f"tech-{tech:03d}",
                "window_start": window_start,
                "window_end": window_start + timedelta(minutes=45),
                "eta": window_start,
                "travel_minutes": 10,
                "forced": False,
                "details": {
                    "job_type": "boiler_repair",
                    "customer_id": f"cust-{n % 300}",
                    "customer_name": f"Customer {n % 300}",
                    "description": "No heating, boiler shows fault code",
                    "required_skills": ["gas_boiler"],
                    "estimated_duration_minutes": 45,
                    "respond_by": (window_start + timedelta(hours=rng.choice([-1, 1, 6]))),
                    "resolve_by": (window_start + timedelta(hours=8)).isoformat(),
                    "site": {
                        "site_id": f"site-{n % 300}",
                        "address": f"{n % 300} High Street, Manchester M{n % 20}",
                        "location": {
                            "lat": 53.43 + rng.random() / 10,
                            "lon": -2.24 - rng.random() / 10,
                        },
                    },
                },
            }
        )
        rows[-1]["details"]["respond_by"] = rows[-1]["details"]["respond_by"].isoformat()
    built = dispatch_board.build(
        day.date(), "Europe/London", rows, techs, start, timedelta(hours=1), absences=[]
    )
    return dict(jsonable_encoder(built))


async def signed_in_context(browser: Any, web: str) -> Any:
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    page = await context.new_page()
    await page.goto(f"{web}/sign-in")
    await page.fill("#username", USERNAME)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{web}/board**")
    await page.close()
    return context


async def first_renders(browser: Any, web: str, renders: int) -> tuple[list[float], int, int]:
    today = datetime.now(UTC)
    payload = json.dumps(synthetic_board(100, 1000, today)).encode()
    context = await signed_in_context(browser, web)

    async def fulfil(route: Any) -> None:
        await route.fulfill(status=200, body=payload, content_type="application/json")

    await context.route("**/api/dispatch/board*", fulfil)
    times, shown, rows = [], 0, 0
    for _ in range(renders):
        page = await context.new_page()
        await page.goto(f"{web}/board?day={today.date().isoformat()}")
        await page.wait_for_selector("#board[data-renders='1']", timeout=60_000)
        times.append(await page.evaluate("window.jobstreamBoard.lastRenderAt"))
        shown = await page.locator(".visit").count()
        rows = await page.locator(".tl-row").count()
        await page.close()
    await context.close()
    return times, shown, rows


# -- 4: event → visible ------------------------------------------------------------------


async def probe(business: Business, rng: random.Random) -> tuple[str, float]:
    body = business.request(rng, release=True) | {"priority": "P1"}
    response = await business.post(f"{business.urls['intake']}/requests", body, business.office)
    return response.json()["work_order_id"], time.time() * 1000


async def in_dispatch(business: Business, wo: str, deadline: float) -> float | None:
    """When dispatch's own API first answers for the job (wall clock, ms)."""
    url = f"{business.urls['dispatch']}/jobs/{wo}"
    while time.monotonic() < deadline:
        if (await business.client.get(url, headers=business.office)).status_code == 200:
            return time.time() * 1000
        await asyncio.sleep(0.05)
    return None


async def event_to_visible(
    page: Any, business: Business, probes: int, gap_s: float, wait_s: float
) -> tuple[list[float], list[float], int]:
    """Per probe: ms until dispatch's API has it, ms until the board shows it.

    Also how many the board never showed within ``wait_s`` of the last probe.
    """
    rng = random.Random(uuid.uuid4().int)
    sent: list[tuple[str, float]] = []
    watchers = []
    deadline = time.monotonic() + probes * gap_s + wait_s
    for _ in range(probes):
        wo, at = await probe(business, rng)
        sent.append((wo, at))
        watchers.append(asyncio.create_task(in_dispatch(business, wo, deadline)))
        await asyncio.sleep(gap_s)
    seen: dict[str, float] = {}
    while time.monotonic() < deadline:
        seen = await page.evaluate("window.__seen")
        if all(wo in seen for wo, _ in sent):
            break
        await asyncio.sleep(0.25)
    known = await asyncio.gather(*watchers)
    to_dispatch = [k - at for (_, at), k in zip(sent, known, strict=True) if k is not None]
    to_board = [seen[wo] - at for wo, at in sent if wo in seen]
    return to_dispatch, to_board, len(sent) - len(to_board)


def load_targets(business: Business, count: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    headers = {**business.office, "Content-Type": "application/json"}
    url = f"{business.urls['intake']}/requests"
    return [
        target(
            "POST",
            url,
            json.dumps(business.request(rng, release=rng.random() < 0.3)).encode(),
            headers,
        )
        for _ in range(count)
    ]


def summary(values: list[float]) -> str:
    if not values:
        return "none seen"
    return f"{statistics.median(values):.0f} / {percentile(values, 95):.0f} / {max(values):.0f}"


# -- the run -------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> str:
    from playwright.async_api import async_playwright

    verify_ms, params = argon2_verify_ms()
    print(f"argon2 verify: {verify_ms:.1f} ms ({params})", flush=True)
    use_key_files(tempfile.mkdtemp(prefix="jobstream-bench-keys-"))
    with find_infra() as infra:
        stack = ServiceStack(
            infra,
            Path(tempfile.mkdtemp(prefix="jobstream-web-bench-")),
            namespace=f"webbench-{uuid.uuid4().hex[:8]}",
            services=(*SERVICES, "web"),
            extra_env={
                "JOBSTREAM_LOG_LEVEL": "WARNING",
                # The benchmark signs in from one address, far beyond the per-client limit.
                "WEB_SIGN_IN_PER_MINUTE_PER_CLIENT": "100000000",
            },
        )
        await stack.create()
        stack.extra_env["JOBSTREAM_JWKS_URL"] = f"{stack.urls['web']}/.well-known/jwks.json"
        stack.start_all()
        try:
            return await measure(args, stack, verify_ms, params, async_playwright)
        finally:
            await stack.destroy()


async def measure(
    args: argparse.Namespace, stack: ServiceStack, verify_ms: float, params: str, playwright: Any
) -> str:
    web = stack.urls["web"]
    async with httpx.AsyncClient(timeout=5) as client:

        async def ready() -> bool:
            try:
                answers = [await client.get(f"{u}/readyz") for u in stack.urls.values()]
            except httpx.HTTPError:
                return False
            return all(a.status_code == 200 for a in answers)

        await wait_until(ready, timeout=180, message="six processes ready")
    await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "jobstream.web",
            "accounts",
            "create",
            USERNAME,
            "--role",
            "dispatcher",
            "--name",
            "Bench Dispatcher",
            "--keep-password",
        ],
        env={**stack.env("web"), "JOBSTREAM_PASSWORD": PASSWORD},
        check=True,
        capture_output=True,
    )
    business = Business(stack.urls, technicians=args.technicians, sites=50)
    await business.seed(0)

    print("sign-ins per second …", flush=True)
    signins = attack(
        await sign_in_targets(web),
        "-rate=0",
        "-max-workers=4",
        f"-duration={args.sign_in_seconds}s",
        "-redirects=-1",
    )
    codes = signins.get("status_codes", {})
    print(f"  {signins['throughput']:.1f}/s, codes {codes}", flush=True)

    async with playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS
        )
        print("first renders of a 100 × 1,000 board …", flush=True)
        renders, shown, rows = await first_renders(browser, web, args.renders)
        print(f"  {renders} ms, {shown} visits in {rows} rows", flush=True)

        context = await signed_in_context(browser, web)
        await context.add_init_script(SEEN_SCRIPT)
        page = await context.new_page()
        await page.goto(f"{web}/board")
        await page.wait_for_selector("#board[data-live='on']", timeout=60_000)
        probes = max(5, int(args.seconds / 2))
        print("event → visible, quiet …", flush=True)
        quiet = await event_to_visible(page, business, 10, 1.0, 30)
        print(f"  dispatch {summary(quiet[0])} ms, board {summary(quiet[1])} ms", flush=True)
        loaded = []
        for rate in args.rates:
            print(f"event → visible at {rate}/s intake …", flush=True)
            load = asyncio.create_task(
                asyncio.to_thread(
                    attack,
                    load_targets(business, rate * args.seconds),
                    f"-rate={rate}/s",
                    f"-duration={args.seconds}s",
                    "-max-workers=64",
                )
            )
            await asyncio.sleep(2)
            timings = await event_to_visible(page, business, probes, 2.0, args.wait_seconds)
            intake = await load
            print(
                f"  dispatch {summary(timings[0])} ms, board {summary(timings[1])} ms", flush=True
            )
            loaded.append((rate, timings, intake))
        on_board = await page.evaluate("Object.keys(window.__seen).length")
        await browser.close()
    await business.client.aclose()

    lat = signins["latencies"]
    load_rows = "\n".join(
        f"| while intake takes {rate} requests/s for {args.seconds} s (vegeta: {intake['throughput']:.1f}/s done, "
        f"p50 / p99 {ms(intake['latencies']['50th'])} / {ms(intake['latencies']['99th'])} ms, answers {intake.get('status_codes', {})}), "
        f"{probes} P1 requests | {summary(t[0])} | **{summary(t[1])}** | {t[2]} |"
        for rate, t, intake in loaded
    )
    return f"""
Six processes (five services and the front door, one `serve` process each, uvicorn with one
worker) on real Kafka and PostgreSQL, Debian's Chromium headless, and vegeta — all on the same
2 cores, so every figure here carries the others' load. {args.technicians} technicians on call,
50 customer sites.

| what | figure |
|---|---|
| Argon2id verify, one password, median of 30 ({params}) | **{verify_ms:.0f} ms** of CPU |
| sign-ins through the form, one front-door process, vegeta 4 workers, {args.sign_in_seconds} s | **{signins["throughput"]:.1f} sign-ins/s**; latency p50 / p95 / p99 {ms(lat["50th"])} / {ms(lat["95th"])} / {ms(lat["99th"])} ms; answers {codes} |
| board first render, 100 technicians × 1,000 visits, {args.renders} page loads (navigation start → board drawn) | median **{statistics.median(renders):.0f} ms**, max {max(renders):.0f} ms; {shown} visits in {rows} timeline rows |

Event → visible: for each P1 request, ms from intake's answer until dispatch's API first
knows the job, and until the board open in Chromium first shows it (median / p95 / max).

| when | → in dispatch's API | → on the board | not on the board in time |
|---|---|---|---|
| quiet stack, 10 P1 requests | {summary(quiet[0])} | **{summary(quiet[1])}** | {quiet[2]} |
{load_rows}

The sign-in rate is bounded by Argon2id, as it should be: each sign-in is one verify (in a
worker thread, so the event loop keeps serving pages) plus a session row; at about 120 ms of
CPU a verify, two cores give roughly ten sign-ins a second per process, and more processes
behind the same database scale it (the lockout is a row lock, not process memory).

Event → visible runs from intake's answer to the POST (its `RequestLogged` and
`WorkOrderReleased` are then in intake's outbox) through intake's relay, Kafka, dispatch's
consumer (the job lands in the unassigned lane or on a timeline), dispatch's relay, the front
door's tail of the topics, the page's server-sent event, its debounced (120 ms) fetch of the
board and its render. The first column stops at dispatch's own API, so the gap between the
two columns is the front door's and the page's share. When the board is late it is late
because dispatch is: at 20 requests/s on two shared cores dispatch's consumer falls behind
(as the load benchmark found; every scheduling decision still refolds the job's history, the
subject of the state-without-replay issue), and the page shows each job within tens to
hundreds of milliseconds of dispatch knowing it. The board showed {on_board} distinct jobs
by the end. The first-render figure is the page's own work; dispatch answering a 1,000-visit
board is not in it.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rates",
        type=lambda text: [int(r) for r in text.split(",")],
        default=[5, 20],
        help="intake requests per second, one load phase each (comma-separated)",
    )
    parser.add_argument("--seconds", type=int, default=60, help="how long the intake load runs")
    parser.add_argument("--wait-seconds", type=int, default=60)
    parser.add_argument("--renders", type=int, default=5)
    parser.add_argument("--technicians", type=int, default=20)
    parser.add_argument("--sign-in-seconds", type=int, default=20)
    args = parser.parse_args()
    body = asyncio.run(run(args))
    command = "uv run python benchmarks/web_bench.py " + " ".join(sys.argv[1:])
    write_section("web", "The front door: board, live changes, sign-in", command.strip(), body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
