"""Jobstream billing service."""
