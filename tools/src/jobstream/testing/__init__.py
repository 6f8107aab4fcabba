"""Test support: real Kafka/PostgreSQL fixtures and the shared consumer contract suite."""
