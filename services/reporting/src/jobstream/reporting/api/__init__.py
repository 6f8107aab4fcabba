"""Reporting's HTTP API."""
