"""Prometheus metrics shared by every service, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RELAY_PUBLISHED = Counter(
    "jobstream_relay_published_total", "Events published by the outbox relay", ["service"]
)
RELAY_ERRORS = Counter(
    "jobstream_relay_errors_total", "Relay failures (broker or database outages)", ["service"]
)
# Measured from the events table by every relay process, leader or standby, so a backlog
# shows while the broker is down or no relay holds the lock (ADR 0084).
RELAY_BACKLOG = Gauge(
    "jobstream_relay_backlog_events",
    "Events appended but not yet published (counted up to 100000)",
    ["service"],
)
RELAY_OLDEST_UNPUBLISHED = Gauge(
    "jobstream_relay_oldest_unpublished_seconds",
    "Age of the oldest event not yet published, by the database's clock (0 when none waits)",
    ["service"],
)
READY = Gauge(
    "jobstream_ready", "1 when the process's last readiness evaluation passed, else 0", ["service"]
)
# Counted in the process, so flaps between two scrapes are not lost.
READINESS_CHANGES = Counter(
    "jobstream_readiness_changes_total",
    "Times the readiness evaluation went from ready to not ready or back",
    ["service"],
)
CONSUMED = Counter(
    "jobstream_consumer_records_total",
    "Records consumed, by outcome (applied, duplicate, ignored, dead_lettered)",
    ["group", "topic", "outcome"],
)
CONSUMER_RETRIES = Counter(
    "jobstream_consumer_batch_retries_total",
    "Batches retried after a transient failure",
    ["group"],
)
CONSUMER_LAG = Gauge(
    "jobstream_consumer_lag_records",
    "Records between the stored offset and the partition's end",
    ["group", "topic", "partition"],
)
BATCH_SECONDS = Histogram(
    "jobstream_consumer_batch_seconds", "Time to apply and commit one batch", ["group"]
)
SNAPSHOT_LOADS = Counter(
    "jobstream_snapshot_loads_total",
    "Stream loads, by what the fold started from (resident state, snapshot row, events)",
    ["kind", "source"],
)
HTTP_REQUESTS = Histogram(
    "jobstream_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
)
