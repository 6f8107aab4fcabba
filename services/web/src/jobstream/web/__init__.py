"""Jobstream's front door for browsers."""
