# ruff: noqa: E501  (one pattern per line reads better than split strings)
"""The headline figures of each benchmark section, for the index atop docs/benchmarks.md."""

# Each section's headline figures: (what, a pattern whose groups are the value in the
# section's own text). The index is read out of the sections, so it can never disagree with
# them; tests/test_benchmarks_index.py checks every pattern still finds its figure.
# A third element formats the groups ({0}, {1} …); without it they are joined with " / ".
HEADLINES: dict[str, list[tuple[str, ...]]] = {
    "idle-memory": [
        (
            "idle resident memory after start: intake, dispatch, fieldupdates, billing, reporting (MiB)",
            r"\| this commit \| (\d+) MiB \| (\d+) MiB \| (\d+) MiB \| (\d+) MiB \| (\d+) MiB \|",
        ),
        (
            "the same before heavy imports were deferred, in the same run (MiB)",
            r"\| baseline \w+ \| (\d+) MiB \| (\d+) MiB \| (\d+) MiB \| (\d+) MiB \| (\d+) MiB \|",
        ),
    ],
    "stack": [
        (
            "`make up`: all five services ready, from stopped (median)",
            r"everything stopped \(`make down` first\) \| \d+ \| ([\d.]+ s)",
        ),
        (
            "request logged → invoice issued, ms (median / p90 / max)",
            r"request logged → invoice issued \(no field time\) \| ([\d /]+?) \|",
        ),
    ],
    "fieldupdates-sync": [
        (
            "offline sync, 1,000-action batch of 20 jobs, first post (median actions/s)",
            r"20 jobs × 50 actions, first post \(all applied\) \| \d+ \| (\d+) \|",
        ),
        (
            "offline sync, the same batch re-posted, all duplicates (median actions/s)",
            r"20 jobs × 50 actions, same batch again \(all duplicates\) \| \d+ \| (\d+) \|",
        ),
    ],
    "fieldupdates-job-length": [
        (
            "single-action sync against jobs of 10 / 500 events: actions/s, and their ratio (target ≥ 0.80)",
            r"\| this commit \| 10 \| \*\*(\d+)\*\*.*?\| this commit \| 500 \| \*\*(\d+)\*\*.*?- this commit: ([\d.]+) \(",
            "{0} / {1} actions/s, ratio {2}",
        ),
        (
            "the same before snapshots (a full fold per action), in the same run",
            r"\| baseline \w+ \| 10 \| \*\*(\d+)\*\*.*?\| baseline \w+ \| 500 \| \*\*(\d+)\*\*.*?- baseline \w+: ([\d.]+) \(",
            "{0} / {1} actions/s, ratio {2}",
        ),
    ],
    "intake-load": [
        (
            "intake capacity, one process (requests/s)",
            r"throughput, 16 clients back to back, \d+ s \| \*\*(\d+) requests/s",
        ),
        (
            "intake latency at 60 % of capacity, p50 / p90 / p99",
            r"latency at steady load, p50 / p90 / p99 \| \*\*([\d /]+ ms)\*\*",
        ),
    ],
    "dispatch-vrptw": [
        (
            "PyVRP mean gap to best known, 56 Solomon instances, 10 s each",
            r"pyvrp, Solomon: mean gap ([\d.]+ %)",
        ),
        (
            "VROOM mean gap to best known, 56 Solomon instances, 10 s each",
            r"vroom, Solomon: mean gap ([\d.]+ %)",
        ),
    ],
    "dispatch-field": [
        (
            "hard-constraint violations, 1,000 jobs / 100 technicians (insertion; + VROOM)",
            r"1000 / 100 \| insertion \(live engine\) \| \d+ \| (\d+) \|.*?1000 / 100 \| insertion, then VROOM x5 day optimiser \| \d+ \| (\d+) \|",
        ),
        (
            "km per placed job, 1,000 jobs (insertion → + VROOM)",
            r"1000 / 100 \| insertion \(live engine\) \|(?: [^|]+ \|){4} ([\d.]+) \|.*?1000 / 100 \| insertion, then VROOM x5 day optimiser \|(?: [^|]+ \|){4} ([\d.]+) \|",
        ),
    ],
    "dispatch-live": [
        (
            "P1 placed into a live 200-job plan, p50 / p95 through the handler",
            r"P1 release into the 200-job plan \| \d+ \| ([\d]+ ms) \| ([\d]+ ms) \|",
        ),
        (
            "other jobs moved by a P1 insertion (median / max)",
            r"P1 release into the 200-job plan(?: \|[^|]+){4} \| ([\d /]+) \|",
        ),
    ],
    "dispatch-plan-load": [
        (
            "routine release into a 800–1,000-job plan, 100 technicians: baseline / this commit (median, ratio)",
            r"\| 800–1000 \| (\d+ ms) \| (\d+ ms) \| ([\d.]+×) \|",
            "{0} / {1} ({2})",
        ),
    ],
    "billing_rebuild": [
        (
            "billing rebuild, events as in the command (events/s, ratio to raw consume)",
            r"\*\*billing rebuild\*\*[^|]*\|[^|]+\|[^|]+\| ([\d,]+) \| ([\d/.]+) \|",
        ),
        (
            "raw consume of the same topics (records/s)",
            r"raw consume\) \|[^|]+\|[^|]+\| ([\d,]+) \|",
        ),
    ],
    "reporting": [
        (
            "reporting projector from zero (events/s, ratio to raw consume)",
            r"reporting\.projector from offset zero[^|]*\| ([\d,]+) \| ([\d.]+) \|",
        ),
        ("`rebuild --from-kafka` (events/s)", r"`rebuild --from-kafka`[^|]*\| ([\d,]+) \|"),
        (
            "GET /kpis over a year of work, 60,000 jobs (p50 / p90 / max ms)",
            r"\| the year \| ([\d /]+) \|",
        ),
    ],
    "load-stack": [
        (
            "intake `POST /requests` at a steady rate: achieved, errors, p50 / p99 / max latency",
            r"intake `POST /requests` \| [^|]+ \| ([\d.]+/s) \| \d+ \| ([^|]+?) \| (\d+) / \d+ / (\d+) / (\d+) ms",
            "{0}, errors: {1}, {2} / {3} / {4} ms",
        ),
        (
            "field device actions at a steady rate: achieved, errors, p50 / p99 / max latency",
            r"fieldupdates device actions \| [^|]+ \| ([\d.]+/s) \| \d+ \| ([^|]+?) \| (\d+) / \d+ / (\d+) / (\d+) ms",
            "{0}, errors: {1}, {2} / {3} / {4} ms",
        ),
        (
            "consumer lag drained after the intake / field phase",
            r"intake `POST /requests`(?: \|[^|]+){5} \| (\d+ s) \|.*?fieldupdates device actions(?: \|[^|]+){5} \| (\d+ s) \|",
        ),
        (
            "peak resident memory: intake, dispatch, fieldupdates, billing, reporting (MiB)",
            r"\| intake \| [^|]+ \| (\d+) MiB.*?\| dispatch \| [^|]+ \| (\d+) MiB.*?\| fieldupdates \| [^|]+ \| (\d+) MiB.*?\| billing \| [^|]+ \| (\d+) MiB.*?\| reporting \| [^|]+ \| (\d+) MiB",
        ),
    ],
    "load-intake-lock": [
        (
            "intake at capacity, 16 clients (req/s, CPU ms per request)",
            r"\| this commit \| ([\d.]+ req/s)[^|]*\| [\d.]+ \| ([\d.]+ ms) \|",
        ),
    ],
    "simulation": [
        (
            "simulated day: requests, invariant checks, verdict, wall time",
            r"plain day \(`--start-stack`\) \| \d+ \| (\d+) \|(?: [^|]+ \|){3} (\d+) \| ([^|]+) \| (\d+ s) \|",
        ),
        (
            "day with faults: requests, invariant checks, verdict, wall time",
            r"day with faults \(`--faults`\) \| \d+ \| (\d+) \|(?: [^|]+ \|){3} (\d+) \| ([^|]+) \| (\d+ s) \|",
        ),
        (
            "back to ready after SIGKILL of reporting / restart of Kafka / of PostgreSQL",
            r"(?s)\| reporting \| ([\d.]+ s) \|.*?\| kafka \| ([\d.]+ s) \|.*?\| postgresql \| ([\d.]+ s) \|",
        ),
    ],
    "web": [
        (
            "board first render, 100 technicians × 1,000 visits, headless Chromium (median)",
            r"board first render, 100 technicians × 1,000 visits[^|]*\| median \*\*(\d+ ms)\*\*",
        ),
        (
            "event → visible on the board, quiet / at 5 req/s intake (p95 ms)",
            r"\| quiet stack[^|]*\|[^|]*\| \*\*\d+ / (\d+) / \d+\*\* \|.*?\| while intake takes 5 requests/s[^|]*\|[^|]*\| \*\*\d+ / (\d+) / \d+\*\* \|",
        ),
        (
            "event → visible on the board at 20 req/s intake, in dispatch / on the board (p95 ms)",
            r"\| while intake takes 20 requests/s[^|]*\| \d+ / (\d+) / \d+ \| \*\*\d+ / (\d+) / \d+\*\* \|",
        ),
        (
            "Argon2id verify; sign-ins per second, one front-door process",
            r"Argon2id verify[^|]*\| \*\*(\d+ ms)\*\*.*?\*\*([\d.]+ sign-ins/s)\*\*",
        ),
    ],
    "tech-app": [
        (
            "technician app opens offline, phone viewport: browser restarted / new tab / reload (median)",
            r"app shell offline, cold tab:[^|]*\| \d+ \| \*\*(\d+ ms)\*\*.*?app shell offline, cold start:[^|]*\| \d+ \| \*\*(\d+ ms)\*\*.*?app shell offline, warm:[^|]*\|[^|]*\| \*\*(\d+ ms)\*\*",
            "{1} / {0} / {2}",
        ),
        (
            "actions queued offline, synced on reconnect: wall time until 0 pending (median)",
            r"\| (\d+) actions queued offline, synced on reconnect.*?\*\*wall time\*\*[^|]*\| \d+ \| \*\*(\d+ ms)\*\*",
            "{1} for {0} actions",
        ),
        (
            "technician's list of 15 jobs, first render online: from sign-in / second visit (median)",
            r"first render online, cold:[^|]*\| \d+ \| \*\*(\d+ ms)\*\*.*?second visit online, warm:[^|]*\| \d+ \| \*\*(\d+ ms)\*\*",
        ),
    ],
}
