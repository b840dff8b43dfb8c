"""gevent's ``Queue`` and rendezvous ``Channel`` as MPSC channels for threads.

gevent objects belong to the hub of the thread that made them and are not thread-safe, while the
sync contract is called from many threads.  So, as the async bridge does for event loops, every
gevent channel lives in one dedicated thread running a gevent hub, and each call (``put``,
``get``, ``shutdown``, even construction) is marshalled into it as a new greenlet
(``loop.run_callback_threadsafe`` + ``gevent.spawn``); the calling thread waits for the outcome.
A call blocked in gevent is a greenlet blocked in that hub: other calls go on running.

* :func:`queue_channel`: ``gevent.queue.Queue(maxsize)`` (``None`` unbounded), which has Python
  3.13's ``shutdown(immediate)`` since gevent 24.10: the adapter of ``_queue_like`` (counted
  senders, the last close is ``shutdown()``, the receiver's close ``shutdown(immediate=True)``).
* :func:`channel`: ``gevent.queue.Channel()``, the rendezvous.  It has no close or shutdown at
  all, so disconnection and receiver close are not offered: closing only marks the handle.  Its
  ``put_nowait``/``get_nowait`` wait with a zero timeout, so two of them can meet (a declared,
  undocumented deviation; see ``docs/findings/``).
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from impls.adapters._common import distribution_version, require
from impls.adapters._queue_like import QueueErrors, SyncQueueReceiver, SyncQueueSender, shutdowns, sync_pair
from spec import Capacities, Deviation, Feature, Offers, Rule, validate_capacity

__all__ = ["channel", "queue_channel"]


class _Hub:
    """The one thread whose gevent hub owns every gevent channel made here (a daemon: a
    greenlet blocked forever in a channel nobody closes costs memory, not a thread)."""

    def __init__(self, gevent: Any) -> None:
        self._spawn = gevent.spawn
        started = threading.Event()
        self._loop: Any = None

        def serve() -> None:
            self._loop = gevent.get_hub().loop
            started.set()
            while True:  # keep the hub's loop running; work arrives as thread-safe callbacks
                gevent.sleep(3600)

        threading.Thread(target=serve, name="mpsc-gevent-hub", daemon=True).start()
        started.wait()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` as a greenlet in the hub thread; wait for its outcome here."""
        outcome: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                outcome.set_result(fn(*args))
            except BaseException as exc:  # gevent.Timeout is a BaseException: hand it over too
                outcome.set_exception(exc)

        self._loop.run_callback_threadsafe(self._spawn, run)
        return outcome.result()


_hub: _Hub | None = None
_hub_lock = threading.Lock()


def _the_hub(gevent: Any) -> _Hub:
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = _Hub(gevent)
        return _hub


class _Marshalled:
    """A gevent queue or channel seen from other threads: the same calls, run in the hub."""

    __slots__ = ("_hub", "_raw")

    def __init__(self, hub: _Hub, raw: Any) -> None:
        self._hub = hub
        self._raw = raw

    def put(self, item: object, block: bool = True, timeout: float | None = None) -> None:
        self._hub.call(self._raw.put, item, block, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> object:
        return self._hub.call(self._raw.get, block, timeout)

    def shutdown(self, immediate: bool = False) -> None:
        self._hub.call(self._raw.shutdown, immediate)


_QUEUE = Capacities(unbounded=True, bounded=True, rendezvous=False)
_CHANNEL = Capacities(unbounded=False, bounded=False, rendezvous=True)


def queue_channel(capacity: int | None = None) -> tuple[SyncQueueSender, SyncQueueReceiver]:
    """``gevent.queue.Queue(capacity)`` in the shared hub thread, behind counted handles."""
    gevent = require("gevent")
    gqueue = require("gevent.queue", "gevent")
    size = validate_capacity(capacity, _QUEUE)
    hub = _the_hub(gevent)
    q = _Marshalled(hub, hub.call(gqueue.Queue, size))
    return sync_pair(q, QueueErrors(gqueue.Empty, gqueue.Full, gqueue.ShutDown), *shutdowns(q.shutdown))


def channel(capacity: int | None = 0) -> tuple[SyncQueueSender, SyncQueueReceiver]:
    """``gevent.queue.Channel()`` (rendezvous only) in the shared hub thread."""
    gevent = require("gevent")
    gqueue = require("gevent.queue", "gevent")
    validate_capacity(capacity, _CHANNEL)
    hub = _the_hub(gevent)
    return sync_pair(_Marshalled(hub, hub.call(gqueue.Channel)), QueueErrors(gqueue.Empty, gqueue.Full), None, None)


_VERSION = distribution_version("gevent")
queue_channel.offers = Offers(  # type: ignore[attr-defined]
    capacities=_QUEUE, missing=frozenset({Feature.CLOSE_WHILE_BLOCKED}), library="gevent", version=_VERSION)
channel.offers = Offers(  # type: ignore[attr-defined]
    capacities=_CHANNEL,
    missing=frozenset({Feature.DISCONNECT, Feature.CLOSE_RECEIVER, Feature.CLOSE_WHILE_BLOCKED}),
    library="gevent", version=_VERSION,
    deviations=(Deviation(Rule.RENDEZVOUS, "put_nowait() and get_nowait() made at about the same time complete each "
                          "other: 'no wait' is a wait with a zero timeout "
                          "(docs/findings/gevent-channel-nowait-pairs.md)"),))
