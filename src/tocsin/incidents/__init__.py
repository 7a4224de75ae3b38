"""Alerts, deduplication, incidents, their lifecycle and timeline."""
