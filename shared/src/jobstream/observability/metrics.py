"""Prometheus metrics shared by every service, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RELAY_PUBLISHED = Counter(
    "jobstream_relay_published_total", "Events published by the outbox relay", ["service"]
)
RELAY_ERRORS = Counter(
    "jobstream_relay_errors_total", "Relay failures (broker or database outages)", ["service"]
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
