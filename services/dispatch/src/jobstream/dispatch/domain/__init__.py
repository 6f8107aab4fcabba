"""Dispatch's pure domain: technicians, qualification, travel and the scheduling decisions."""
