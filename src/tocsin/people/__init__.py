"""People: users, teams, sessions, API tokens and roles."""
