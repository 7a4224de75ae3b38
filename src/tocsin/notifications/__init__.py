"""Notifications: the outbox of messages waiting to be sent, and their attempts."""
