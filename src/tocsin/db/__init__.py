"""Storage: declarative base, portable column types, transactions and migrations."""
