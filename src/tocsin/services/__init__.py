"""Services: monitored services, integrations and routing keys, urgency, support hours."""
