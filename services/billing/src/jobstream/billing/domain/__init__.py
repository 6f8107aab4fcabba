"""Billing's pure domain: pricing and invoice arithmetic in integer minor units."""
