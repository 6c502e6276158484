"""Request batching for the demo: requests that arrive together are translated together.

A demo serves one sentence per request, often to several people at once.  Translating each request
alone wastes the batched decoder; :class:`MicroBatcher` collects what arrives within ``max_wait``
seconds (at most ``max_batch`` requests), groups it by decoding settings (requests never get each
other's beam size or length penalty), and runs one batched ``translate`` per group.  Each caller gets its own
result through a ``Future``, as soon as its own sentences are translated: the few sentences that need a PyTorch
search with the placeholder limits (``Translator.translate``) do not hold back the rest of their batch.  Two
worker threads take batches in turn, so a batch busy with such a search does not hold back the next one either
(both engines serve concurrent calls; nothing in a translator holds per-request state).  Input is checked before
it is queued (``predict.prepare``), so one bad input fails only its own request; an unexpected failure of a batch
is passed to each of its callers that has no result yet.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import Callable

from .predict import Request

WORKERS = 2  # batches in flight at once (module docstring)
log = logging.getLogger(__name__)


class MicroBatcher:
    def __init__(self, run: Callable[..., list], max_batch: int = 16, max_wait: float = 0.01, workers: int = WORKERS):
        """``run(requests, done)`` translates requests with equal settings and returns one result per request;
        it may call ``done(k, result)`` for request ``k`` as soon as that one is ready."""
        self.run, self.max_batch, self.max_wait = run, max_batch, max_wait
        self.queue: "queue.Queue[tuple[Request, Future]]" = queue.Queue()
        self.batches = 0  # how many batched calls were made (for tests and logs)
        self._count = threading.Lock()
        self._workers = [
            threading.Thread(target=self._loop, name=f"seq2seq-batcher-{k}", daemon=True) for k in range(workers)
        ]
        for w in self._workers:
            w.start()

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
                with self._count:
                    self.batches += 1
                futures = [fut for _, fut in group]

                def done(k: int, result, futures=futures) -> None:
                    if not futures[k].done():
                        futures[k].set_result(result)

                try:
                    results = self.run([r for r, _ in group], done)
                    for k, res in enumerate(results):
                        done(k, res)
                except BaseException as e:  # passed on to every caller of this batch without a result, whatever it is
                    waiting = [fut for fut in futures if not fut.done()]
                    for fut in waiting:
                        fut.set_exception(e)
                    if not waiting:  # every caller has its answer: the failure is only logged
                        log.exception("a batch failed after answering its requests")
