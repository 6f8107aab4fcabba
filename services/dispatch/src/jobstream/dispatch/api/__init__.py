"""Dispatch's HTTP API."""
