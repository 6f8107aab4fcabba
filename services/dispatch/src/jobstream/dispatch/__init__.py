"""Jobstream dispatch service."""
