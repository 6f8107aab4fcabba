"""Jobstream fieldupdates service."""
