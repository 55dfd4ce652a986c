"""Redis clients, with redis-py imported on first use: 40 ms of every process's start that
only processes configured with Redis need (and they pay it when they first connect)."""
from __future__ import annotations

import importlib


def redis_client(url: str, **options):
    """A `redis.Redis` client of `url` (`options`: timeouts and the like)."""
    return importlib.import_module("redis").Redis.from_url(url, **options)
