"""Keeping processes in step: Redis link, pub/sub, catalog invalidation, store lookups on a miss."""
