"""Jobstream reporting service."""
