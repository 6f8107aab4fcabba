"""Billing's HTTP API."""
