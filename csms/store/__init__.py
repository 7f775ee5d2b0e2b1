"""Persistence: SQLModel tables (suffix Row), a batched writer, and query helpers."""
