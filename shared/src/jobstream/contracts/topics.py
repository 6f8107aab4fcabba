"""Kafka topics: one per owning service, each with a dead-letter topic beside it."""

from __future__ import annotations

from dataclasses import dataclass

INTAKE = "workorders.intake"
DISPATCH = "workorders.dispatch"
FIELD = "workorders.field"
BILLING = "workorders.billing"
TECHNICIANS = "technicians"

EVENT_TOPICS: tuple[str, ...] = (INTAKE, DISPATCH, FIELD, BILLING, TECHNICIANS)


def namespaced(topic: str, namespace: str) -> str:
    """``topic`` inside ``namespace`` (several deployments can share one cluster)."""
    return f"{namespace}.{topic}" if namespace else topic


def dead_letter_topic(topic: str) -> str:
    """Name of the dead-letter topic beside ``topic``."""
    return f"{topic}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    """How a topic is created: the log topics keep everything for ever."""

    name: str
    partitions: int
    config: dict[str, str]


# Event topics are the system of record: unlimited retention, never compacted.
# The partition count is fixed up front because adding partitions remaps keys.
LOG_TOPIC_CONFIG = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
DEFAULT_PARTITIONS = 6


def all_topic_specs(partitions: int = DEFAULT_PARTITIONS, namespace: str = "") -> list[TopicSpec]:
    """Every topic Jobstream needs: the event topics and their dead-letter topics."""
    names = [namespaced(t, namespace) for t in EVENT_TOPICS]
    specs = [TopicSpec(t, partitions, dict(LOG_TOPIC_CONFIG)) for t in names]
    specs += [TopicSpec(dead_letter_topic(t), 1, dict(LOG_TOPIC_CONFIG)) for t in names]
    return specs
