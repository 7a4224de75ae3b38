"""Channels: transports with no database (email, SMS, push, chat, webhook)."""
