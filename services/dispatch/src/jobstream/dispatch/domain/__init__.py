"""Dispatch's pure domain: technicians and choosing who does a job."""
