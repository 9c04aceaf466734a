"""Fault families gameday can inject and revert; see catalog.py for the kinds."""
