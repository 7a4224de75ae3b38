"""Escalation policies and the escalation state of each open incident."""
