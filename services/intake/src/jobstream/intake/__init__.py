"""Jobstream intake service."""
