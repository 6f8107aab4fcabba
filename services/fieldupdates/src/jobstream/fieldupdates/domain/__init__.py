"""Fieldupdates' pure domain: the job as the technician works it."""
