"""Web adapter: REST API, compatibility endpoints, server-rendered pages."""
