"""Reporting's pure logic: no database, no broker."""
