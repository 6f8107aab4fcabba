"""Fieldupdates' HTTP API (the technician's device)."""
