"""The licence answer cache: this process's memory in front of Redis, both emptied by every
change a licence depends on.

Layers, for `LICENSE_CACHE_SECONDS` (0 disables the cache):
- memory: answers of this process, under its *generation*. The generation moves on every
  change seen: a commit in this process, and, with REDIS_URL, every change announced by any
  process on the Redis channel `licencia:cambios`, which a thread of each process listens to.
  While that thread is not subscribed (Redis down, reconnecting) the memory layer is not used
  at all, and every reconnection starts a new generation (announcements may have been missed).
- Redis (with REDIS_URL): answers shared by every process, under a version number (`INCR`ed
  on every change). An answer read from Redis is kept in memory no longer than Redis keeps it.

A change committed in one process is seen at once by that process and by the others as soon as
the announcement arrives (milliseconds; the listener thread wakes on it). A cache failure never
fails a licence check: the database answers.

An answer is kept at most `LICENSE_CACHE_SECONDS`: each one for a random share of it between
`1 - TTL_SPREAD` and all of it, so that answers cached together (a warm-up, the first minute
after a deploy or a change) do not all expire, and go to the database, at the same moment.
"""
from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable

from ..core.redis_client import redis_client

log = logging.getLogger("backend.api")

VERSION_KEY = "licencia:version"
CHANNEL = "licencia:cambios"
RECONNECT_SECONDS = 1.0
TTL_SPREAD = 0.25  # share of LICENSE_CACHE_SECONDS by which an answer may expire early


class MemoryLayer:
    """A small TTL map for one process; `generation` moves on every change."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._data: dict[tuple, tuple[float, dict]] = {}
        self._lock = threading.Lock()
        self.generation = 0

    def get(self, key: tuple) -> dict | None:
        item = self._data.get(key)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def set(self, key: tuple, value: dict, ttl: int) -> None:
        with self._lock:
            if len(self._data) >= self.MAX_ENTRIES:
                self._data.clear()
            self._data[key] = (time.monotonic() + ttl, value)

    def bump(self) -> None:
        """Forget everything: a new generation (entries of the old one are never read)."""
        with self._lock:
            self.generation += 1
            self._data.clear()


memory = MemoryLayer()


class ChangeListener:
    """A daemon thread subscribed to CHANNEL that bumps `memory` on every announcement.

    `subscribed` is True only while the subscription is live; the thread is started lazily in
    each process (gunicorn forks after import) and reconnects every RECONNECT_SECONDS."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.subscribed = False
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self.subscribed = False
            self._pid = os.getpid()
            threading.Thread(target=self._run, name="licencia-cambios", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            client = redis_client(self.url, socket_connect_timeout=1, health_check_interval=10)
            try:
                pubsub = client.pubsub()
                pubsub.subscribe(CHANNEL)
                while not self._stopped.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    # A new subscription may have missed announcements: start afresh either way.
                    memory.bump()
                    if message["type"] == "subscribe":
                        self.subscribed = True
            except Exception as exc:  # noqa: BLE001 - any Redis failure: retry, answer without memory
                if self.subscribed:
                    log.warning("licence cache: change channel lost (%s); retrying",
                                type(exc).__name__)
                self.subscribed = False
                self._stopped.wait(RECONNECT_SECONDS)
            finally:
                self.subscribed = False
                client.close()


class SharedLayer:
    """The Redis layer of one REDIS_URL, with its change listener."""

    def __init__(self, url: str) -> None:
        self.client = redis_client(url, socket_connect_timeout=1, socket_timeout=1)
        self.listener = ChangeListener(url)

    def memory_usable(self) -> bool:
        self.listener.ensure_running()
        return self.listener.subscribed

    def close(self) -> None:
        self.listener.stop()
        self.client.close()


def memory_key(ident: str, day: str) -> tuple:
    return (memory.generation, ident, day)


def peek(ident: str, day: str, ttl: int, shared: SharedLayer | None) -> dict | None:
    """The answer for `ident` on `day` if some layer has it (memory, then Redis), else None:
    never computes it, never waits on the database."""
    if ttl <= 0:
        return None
    if shared is None:
        return memory.get(memory_key(ident, day))
    if not shared.memory_usable():
        return None
    key = memory_key(ident, day)  # taken first: a change announced meanwhile makes it unreachable
    value = memory.get(key)
    if value is None:
        try:
            value, seconds_left = _entry(shared, _redis_key(shared, ident, day))
        except Exception:  # noqa: BLE001 - any Redis failure: the slow path answers
            return None
        if value is not None:
            memory.set(key, value, seconds_left)
    return value


def cached(ident: str, day: str, ttl: int, shared: SharedLayer | None,
           compute: Callable[[], dict]) -> dict:
    """The answer for `ident` on `day`: memory, then Redis, then `compute()` (stored in both)."""
    if ttl <= 0:
        return compute()
    use_memory = shared is None or shared.memory_usable()
    key = memory_key(ident, day)  # taken first: a change announced meanwhile makes it unreachable
    if use_memory:
        value = memory.get(key)
        if value is not None:
            return value
    if shared is None:
        value, seconds_left = compute(), lifetime(ttl)
    else:
        value, seconds_left = _from_redis(shared, ident, day, ttl, compute)
    if use_memory:
        memory.set(key, value, seconds_left)
    return value


def lifetime(ttl: int) -> float:
    """How long a freshly computed answer is kept: at most `ttl` seconds, at least
    `1 - TTL_SPREAD` of it (module doc)."""
    return ttl * (1 - random.uniform(0, TTL_SPREAD))


def _redis_key(shared: SharedLayer, ident: str, day: str) -> str:
    version = int(shared.client.get(VERSION_KEY) or 0)
    return f"licencia:v{version}:{ident}:{day}"


def _entry(shared: SharedLayer, redis_key: str) -> tuple[dict | None, float]:
    """The entry at `redis_key` and the seconds it has left, in one round trip: an answer is
    never kept in memory longer than Redis keeps it."""
    pipe = shared.client.pipeline(transaction=False)
    pipe.get(redis_key)
    pipe.pttl(redis_key)
    raw, milliseconds = pipe.execute()
    if raw is None or milliseconds is None or milliseconds <= 0:
        return None, 0
    return json.loads(raw), milliseconds / 1000


def _from_redis(shared: SharedLayer, ident: str, day: str, ttl: int,
                compute: Callable[[], dict]) -> tuple[dict, float]:
    """(answer, seconds it may still be kept): Redis's entry, else `compute()` stored there."""
    try:
        redis_key = _redis_key(shared, ident, day)
        value, seconds_left = _entry(shared, redis_key)
        if value is not None:
            return value, seconds_left
    except Exception:
        log.warning("licence cache unavailable; answering from the database", exc_info=True)
        return compute(), lifetime(ttl)
    value, seconds = compute(), lifetime(ttl)
    try:
        shared.client.set(redis_key, json.dumps(value), px=max(1, int(seconds * 1000)))
    except Exception:
        log.warning("licence cache write failed", exc_info=True)
    return value, seconds


def announce_change(shared: SharedLayer | None) -> None:
    """Forget every cached licence: here at once, in Redis (version) and, through CHANNEL, in
    every other process."""
    memory.bump()
    if shared is None:
        return
    try:
        pipe = shared.client.pipeline(transaction=False)
        pipe.incr(VERSION_KEY)
        pipe.publish(CHANNEL, "1")
        pipe.execute()
    except Exception:
        log.warning("licence cache version bump failed", exc_info=True)
