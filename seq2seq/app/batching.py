"""Request batching for the demo: requests that arrive together are translated together.

A demo serves one sentence per request, often to several people at once.  Translating each request
alone wastes the batched decoder; :class:`MicroBatcher` collects what arrives within ``max_wait``
seconds (at most ``max_batch`` requests), groups it by decoding settings (requests never get each
other's beam size or length penalty), and runs one batched ``translate`` per group on one worker
thread.  Each caller gets its own result through a ``Future``.  Input is checked before it is queued
(``predict.prepare``), so one bad input fails only its own request; an unexpected failure of a
batch is passed to each of its callers.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import Callable

from .predict import Request


class MicroBatcher:
    def __init__(self, run: Callable[[list[Request]], list], max_batch: int = 16, max_wait: float = 0.01):
        """``run(requests)`` translates requests with equal settings and returns one result per request."""
        self.run, self.max_batch, self.max_wait = run, max_batch, max_wait
        self.queue: "queue.Queue[tuple[Request, Future]]" = queue.Queue()
        self.batches = 0  # how many batched calls were made (for tests and logs)
        self._worker = threading.Thread(target=self._loop, name="seq2seq-batcher", daemon=True)
        self._worker.start()

    def submit(self, request: Request) -> Future:
        fut: Future = Future()
        self.queue.put((request, fut))
        return fut

    def _collect(self) -> list[tuple[Request, Future]]:
        items = [self.queue.get()]  # wait for the first request
        deadline = time.perf_counter() + self.max_wait
        while len(items) < self.max_batch:
            left = deadline - time.perf_counter()
            try:
                items.append(self.queue.get(timeout=max(0.0, left)) if left > 0 else self.queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _loop(self) -> None:
        while True:
            items = self._collect()
            groups: dict[tuple, list[tuple[Request, Future]]] = {}
            for item in items:
                groups.setdefault(item[0].settings, []).append(item)
            for group in groups.values():
                self.batches += 1
                try:
                    results = self.run([r for r, _ in group])
                except BaseException as e:  # passed on to every caller of this batch, whatever it is
                    for _, fut in group:
                        fut.set_exception(e)
                    continue
                for (_, fut), res in zip(group, results):
                    fut.set_result(res)
