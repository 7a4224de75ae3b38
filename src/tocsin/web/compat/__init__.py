"""Wire-compatible intake: PagerDuty Events API v2, Alertmanager and generic webhooks."""
