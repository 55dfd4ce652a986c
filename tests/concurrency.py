"""Real concurrency for the tests that race requests against the database (MariaDB runs):
each call in its own thread with its own test client (its own app context and session),
released together by a barrier and joined within a bounded time."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

JOIN_TIMEOUT = 60  # seconds for all threads together

Call = Callable[[object], object]  # test client -> response


def run_concurrently(app, calls: list[Call], timeout: float = JOIN_TIMEOUT) -> list:
    """Run each call in its own thread with its own test client, all released at once by a
    barrier; answer the responses in call order (an exception raised in a thread fails here)."""
    barrier = threading.Barrier(len(calls), timeout=timeout)
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(index: int, call: Call) -> None:
        client = app.test_client()
        try:
            barrier.wait()
            results[index] = call(client)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"{len(alive)} request threads still running after {timeout}s"
    assert not errors, errors
    return results


def statuses(responses) -> list[int]:
    return sorted(r.status_code for r in responses)
