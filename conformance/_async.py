"""Driving async channels (asyncio or trio) with the same suite, the same model, the same checks.

An async implementation's factory declares ``channel.offers = spec.Offers(..., runtime="asyncio")``
(or ``"trio"``); its handles follow the async contract (``await tx.send(v)``, ``await rx.recv()``,
``async for``; ``try_send``, ``try_recv``, ``try_iter``, ``clone`` and ``close`` stay plain calls).

Two ways in, and neither repeats a rule:

* :func:`bridge` turns the async factory into a sync one for the *sequential* half.  Each channel
  gets its own event loop on its own daemon thread, and sync proxy handles that run every call
  (plain calls too: async libraries are not thread-safe) inside that loop, the calling thread
  waiting for the outcome.  The generic state machine then drives the implementation unchanged:
  its "background thread blocked in send" is a task blocked in the loop, and a call whose caller
  gives up (the suite's deadline) simply stays blocked there as a task.
* :func:`run_scenario_async` runs a *concurrent* scenario (``conformance._concurrent.Scenario``)
  with producers, consumer and closer as tasks of one loop, recorded into the same
  ``conformance.history.History`` that ``check_history`` judges.

One loop per channel (not one per bridged factory): a channel the suite gave up on keeps its
blocked tasks to itself, and its loop stops (cancelling them) when its proxies are collected,
so one hanging example cannot slow or poison the next.  Starting a loop thread costs well under
a millisecond, small beside an example of the state machine.

A task has no lines to preempt at, as threads do (the threaded runner's line tracer): tasks
interleave only at awaits.  So the runner yields a random number of times (``sleep(0)``) before
each call, besides the scenario's pauses; the implementation's own awaits do the rest.  A lost
wake-up in async code sits between two awaits, so call-level interleaving reaches it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import random
import threading
import time
import traceback
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Any, Protocol

from conformance._concurrent import (
    _STATUS,
    COUNTED,
    ITERATE,
    Crash,
    Run,
    Scenario,
    Step,
    _drain,
    _Recorder,
    _renumber_clones,
    _send_call,
    _Stop,
    _Tally,
)
from conformance.history import History, Kind, Operation, Status
from spec import ChannelError, Disconnected, ErrorKind, LibraryMissing

__all__ = ["ASYNC_RUNTIMES", "BridgedReceiver", "BridgedSender", "bridge", "run_scenario_async", "runtime_of"]

ASYNC_RUNTIMES = ("asyncio", "trio")

GRACE = 1.0
"""Seconds a run's loop is given, after its bound, to cancel the tasks still blocked and stop.
Past it the loop thread is abandoned (an implementation that blocks the loop thread itself)."""

YIELD = 0.5
"""Before each call a task yields once more with this probability (geometric: 0, 1, 2, ...)."""


def runtime_of(factory: Callable[..., Any]) -> str:
    """``"threads"``, ``"asyncio"`` or ``"trio"``: how the factory's handles are called."""
    return str(getattr(getattr(factory, "offers", None), "runtime", "threads"))


# -- event loops on threads ----------------------------------------------------------------


class _End:
    """Returned from the loop instead of raising StopIteration/StopAsyncIteration, which
    cannot cross a coroutine boundary (PEP 479 turns them into RuntimeError)."""


_END = _End()


class _Loop(Protocol):
    """An event loop on its own thread, accepting calls from other threads."""

    thread: threading.Thread

    def run(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Await ``fn()`` inside the loop; return its result or raise its exception."""

    def run_sync(self, fn: Callable[[], Any]) -> Any:
        """Call ``fn()`` inside the loop; return its result or raise its exception."""

    def stop(self) -> None:
        """Cancel what is still running and end the thread; never blocks; idempotent."""


class _AsyncioLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._serve, args=(self.loop,), name="conformance-asyncio", daemon=True)
        self.thread.start()

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def run(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        _not_from(self.thread)
        return asyncio.run_coroutine_threadsafe(_await(fn), self.loop).result()

    def run_sync(self, fn: Callable[[], Any]) -> Any:
        _not_from(self.thread)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def call() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:
                    future.set_exception(exc)

        self.loop.call_soon_threadsafe(call)
        return future.result()

    def stop(self) -> None:
        if not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(lambda: self.loop.create_task(self._shutdown()))
            except RuntimeError:  # closed meanwhile
                pass

    async def _shutdown(self) -> None:
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=GRACE)
        self.loop.stop()


class _TrioLoop:
    def __init__(self) -> None:
        import trio

        self._trio = trio
        ready = threading.Event()
        self._box: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._serve, args=(trio, self._box, ready), name="conformance-trio",
                                       daemon=True)
        self.thread.start()
        ready.wait()
        self.token = self._box["token"]

    @staticmethod
    def _serve(trio: Any, box: dict[str, Any], ready: threading.Event) -> None:
        async def main() -> None:
            with trio.CancelScope() as scope:
                box["token"], box["scope"] = trio.lowlevel.current_trio_token(), scope
                ready.set()
                await trio.sleep_forever()

        trio.run(main)

    def run(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        _not_from(self.thread)
        return self._trio.from_thread.run(_await, fn, trio_token=self.token)

    def run_sync(self, fn: Callable[[], Any]) -> Any:
        _not_from(self.thread)
        return self._trio.from_thread.run_sync(fn, trio_token=self.token)

    def stop(self) -> None:
        # Ending the main task cancels the tasks started from threads (trio runs them in its
        # system nursery), so blocked calls end with Cancelled in their calling threads.
        try:
            self.token.run_sync_soon(self._box["scope"].cancel)
        except self._trio.RunFinishedError:
            pass


async def _await(fn: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await fn()
    except (StopIteration, StopAsyncIteration):
        return _END


def _not_from(thread: threading.Thread) -> None:
    if threading.current_thread() is thread:
        raise RuntimeError("a bridged handle was called from its own event loop's thread, which would deadlock; "
                           "inside the loop, use the async handle itself")


def _start_loop(runtime: str) -> _Loop:
    if runtime == "asyncio":
        return _AsyncioLoop()
    if runtime == "trio":
        _require_trio()
        return _TrioLoop()
    raise ValueError(f"unknown async runtime {runtime!r}; use one of {', '.join(ASYNC_RUNTIMES)}")


def _require_trio() -> None:
    try:
        import trio  # noqa: F401
    except ImportError:
        raise LibraryMissing("trio", "the channel declares runtime='trio'") from None


class _Channel:
    """What the proxies of one channel share: its loop, stopped when the last proxy is collected
    (or at exit).  The loop thread itself holds no reference to this object."""

    def __init__(self, loop: _Loop) -> None:
        self.loop = loop
        weakref.finalize(self, loop.stop)


# -- the sync proxies ----------------------------------------------------------------------

_UNSET: Any = object()  # timeout not given: the call is forwarded without it, exactly as made


class BridgedSender:
    """A sync sender for the sequential suite: each call runs inside the channel's loop."""

    def __init__(self, channel: _Channel, tx: Any) -> None:
        self._channel = channel
        self._tx = tx

    def send(self, value: object, timeout: Any = _UNSET) -> None:
        tx = self._tx
        if timeout is _UNSET:
            self._channel.loop.run(lambda: tx.send(value))
        else:
            self._channel.loop.run(lambda: tx.send(value, timeout=timeout))

    def try_send(self, value: object) -> None:
        self._channel.loop.run_sync(partial(self._tx.try_send, value))

    def clone(self) -> BridgedSender:
        return BridgedSender(self._channel, self._channel.loop.run_sync(self._tx.clone))

    def close(self) -> None:
        self._channel.loop.run_sync(self._tx.close)

    def __enter__(self) -> BridgedSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<bridged {self._tx!r}>"


class BridgedReceiver:
    """A sync receiver for the sequential suite: each call (each step of an iteration too)
    runs inside the channel's loop."""

    def __init__(self, channel: _Channel, rx: Any) -> None:
        self._channel = channel
        self._rx = rx

    def recv(self, timeout: Any = _UNSET) -> object:
        rx = self._rx
        if timeout is _UNSET:
            return self._channel.loop.run(lambda: rx.recv())
        return self._channel.loop.run(lambda: rx.recv(timeout=timeout))

    def try_recv(self) -> object:
        return self._channel.loop.run_sync(self._rx.try_recv)

    def try_iter(self) -> Iterator[object]:
        loop = self._channel.loop
        it = loop.run_sync(self._rx.try_iter)
        while True:
            value = loop.run_sync(partial(_next, it))
            if value is _END:
                return
            yield value

    def __iter__(self) -> Iterator[object]:
        loop = self._channel.loop
        ait = loop.run_sync(self._rx.__aiter__)
        while True:
            value = loop.run(ait.__anext__)
            if value is _END:
                return
            yield value

    def close(self) -> None:
        self._channel.loop.run_sync(self._rx.close)

    def __enter__(self) -> BridgedReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<bridged {self._rx!r}>"


def _next(it: Iterator[object]) -> object:
    return next(it, _END)


def bridge(factory: Callable[..., Any], runtime: str) -> Callable[..., Any]:
    """A sync factory whose channels are ``factory``'s, each driven in its own ``runtime`` loop.

    ``factory`` is called inside the loop.  What it returns, if not a pair, is returned as is
    (the suite reports it); exceptions from it and from every call propagate unchanged.
    Arguments are passed through, bad timeouts included: refusing them is the implementation's
    job, and the suite checks it does.
    """

    def bridged(capacity: int | None = None) -> Any:
        loop = _start_loop(runtime)
        try:
            pair = loop.run_sync(partial(factory, capacity))
        except BaseException:
            loop.stop()
            raise
        if not (isinstance(pair, tuple) and len(pair) == 2):
            loop.stop()
            return pair
        shared = _Channel(loop)
        return BridgedSender(shared, pair[0]), BridgedReceiver(shared, pair[1])

    bridged.__name__ = bridged.__qualname__ = getattr(factory, "__name__", "channel")
    bridged.__module__ = getattr(factory, "__module__", __name__)
    for attribute in ("offers", "capacities"):
        if hasattr(factory, attribute):
            setattr(bridged, attribute, getattr(factory, attribute))
    return bridged


# -- concurrent runs as tasks ----------------------------------------------------------------


class _TaskRecorder(_Recorder):
    """A task's log: ``_Recorder`` with a call that awaits what the call returns, if awaitable."""

    async def acall(self, kind: Kind, fn: Callable[[], Any], *, handle: int | None = None,
                    value: str | None = None, text: str = "") -> tuple[Status, Any]:
        self.begin(kind, handle, value)
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            return self.finish(Status.OK, result)
        except ChannelError as exc:
            return self.finish(_STATUS[ErrorKind.of(exc)], None)
        except Exception as exc:
            raise self.crash(text or kind.value, exc) from exc


class _Runtime(Protocol):
    """What a run needs from an event loop library."""

    def run(self, main: Callable[[], Awaitable[None]]) -> None:
        """Run ``main`` to completion in a new loop on the calling thread."""

    async def sleep(self, seconds: float) -> None: ...

    async def supervise(self, bodies: list[Callable[[], Awaitable[None]]], bound: float,
                        crashed: threading.Event, on_timeout: Callable[[], None]) -> None:
        """Run ``bodies`` as tasks until all end, one crashes, or ``bound`` seconds pass (then
        ``on_timeout()``, before anything is cancelled); then cancel the rest."""


class _Asyncio:
    def run(self, main: Callable[[], Awaitable[None]]) -> None:
        asyncio.run(_coroutine(main))

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def supervise(self, bodies: list[Callable[[], Awaitable[None]]], bound: float,
                        crashed: threading.Event, on_timeout: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        pending = {loop.create_task(_coroutine(body)) for body in bodies}
        while pending and not crashed.is_set():
            remaining = deadline - loop.time()
            if remaining <= 0:
                on_timeout()
                break
            _, pending = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=GRACE)


async def _coroutine(fn: Callable[[], Awaitable[None]]) -> None:
    await fn()


class _Trio:
    def __init__(self) -> None:
        import trio

        self._trio = trio

    def run(self, main: Callable[[], Awaitable[None]]) -> None:
        self._trio.run(main)

    async def sleep(self, seconds: float) -> None:
        await self._trio.sleep(seconds)

    async def supervise(self, bodies: list[Callable[[], Awaitable[None]]], bound: float,
                        crashed: threading.Event, on_timeout: Callable[[], None]) -> None:
        trio = self._trio
        finished = trio.Event()
        left = [len(bodies)]

        async def watched(body: Callable[[], Awaitable[None]]) -> None:
            await body()
            left[0] -= 1
            if crashed.is_set() or not left[0]:  # a crash decides the run: stop the others
                finished.set()

        async with trio.open_nursery() as nursery:
            for body in bodies:
                nursery.start_soon(watched, body)
            with trio.move_on_after(bound):
                await finished.wait()
            if not finished.is_set():
                on_timeout()
            nursery.cancel_scope.cancel()


def _runtime(name: str) -> _Runtime:
    if name == "asyncio":
        return _Asyncio()
    if name == "trio":
        _require_trio()
        return _Trio()
    raise ValueError(f"unknown async runtime {name!r}; use one of {', '.join(ASYNC_RUNTIMES)}")


def run_scenario_async(factory: Callable[..., Any], scenario: Scenario, runtime: str, *, bound: float = 5.0,
                       target: str = "") -> Run:
    """Run ``scenario`` once with tasks of one ``runtime`` loop; at most ``bound`` seconds for
    the tasks.  The same :class:`~conformance._concurrent.Run` as the threaded runner returns:
    tasks still blocked at the bound are reported with their calls, crashes with tracebacks."""
    rt = _runtime(runtime)
    crashed = threading.Event()
    main = _TaskRecorder("main", 0, crashed)
    recorders: list[_TaskRecorder] = [main]
    rng = random.Random()  # interleavings differ run to run, as threads' do
    blocked: list[Operation] = []
    timed_out = threading.Event()

    def blocked_now() -> list[Operation]:
        return [] if crashed.is_set() else [r.current for r in recorders if r.current is not None]

    def on_timeout() -> None:
        timed_out.set()
        blocked.extend(blocked_now())

    async def preempt() -> None:
        while rng.random() < YIELD:
            await rt.sleep(0)

    async def pause(level: int) -> None:
        if level == 1:
            await rt.sleep(0)
        elif level > 1:
            await rt.sleep(level * 50e-6)

    async def clone(rec: _TaskRecorder, tx: Any, number: int) -> tuple[Any, int] | None:
        status, new = await rec.acall(Kind.CLONE, tx.clone, handle=number, text=f"tx{number}.clone()")
        if status is not Status.OK:
            return None
        provisional = rec.ops[-1].id  # renumbered by _renumber_clones, as in the threaded runner
        rec.ops[-1] = replace(rec.ops[-1], result=provisional)
        return new, provisional

    async def run() -> None:
        tx0, rx = factory(scenario.capacity)  # inside the loop: some libraries need one running
        # Each producer's first handle is cloned by main before the start, as in the seed program.
        starts = [await clone(main, tx0, 0) for _ in scenario.producers]
        tally = _Tally(len(scenario.producers))

        async def producer(index: int, script: tuple[Step, ...], rec: _TaskRecorder) -> None:
            start = starts[index]
            handles = [start] if start is not None else []
            closed: set[int] = set()
            sent = 0
            try:
                for step in script:
                    await pause(step.pause)
                    await preempt()
                    if not handles:
                        break
                    tx, number = handles[-1]
                    if step.kind in (Kind.SEND, Kind.SEND_TIMEOUT, Kind.TRY_SEND):
                        sent += 1
                        value = f"p{index}-{sent}"
                        kind = Kind(step.kind)
                        certain = kind is Kind.SEND and number not in closed  # a send on a closed handle fails
                        tally.sending(certain)
                        status, _ = await rec.acall(kind, _send_call(kind, tx, value, step.timeout), handle=number,
                                                    value=value, text=f"tx{number}.{kind.value}({value!r})")
                        tally.sent(certain, status is Status.OK)
                    elif step.kind is Kind.CLONE:
                        made = await clone(rec, tx, number)
                        if made is not None:
                            handles.append(made)
                    elif step.kind is Kind.CLOSE_SENDER:
                        closed.add(number)
                        await rec.acall(Kind.CLOSE_SENDER, tx.close, handle=number, text=f"tx{number}.close()")
                for tx, number in handles:  # every scenario ends with this producer's handles closed
                    await rec.acall(Kind.CLOSE_SENDER, tx.close, handle=number, text=f"tx{number}.close()")
            except _Stop:
                return
            finally:
                tally.finished()

        async def consumer(rec: _TaskRecorder) -> None:
            try:
                for step in scenario.consumer:
                    await pause(step.pause)
                    await preempt()
                    if step.kind == ITERATE:
                        await _iterate(rec, rx)
                    elif step.kind == COUNTED:
                        await _counted(rec, rx, tally, rt)
                    elif step.kind is Kind.RECV:
                        tally.received((await rec.acall(Kind.RECV, rx.recv, text="await rx.recv()"))[0])
                    elif step.kind is Kind.RECV_TIMEOUT:
                        tally.received((await rec.acall(Kind.RECV_TIMEOUT, partial(rx.recv, timeout=step.timeout),
                                                        text=f"await rx.recv(timeout={step.timeout})"))[0])
                    elif step.kind is Kind.TRY_RECV:
                        tally.received((await rec.acall(Kind.TRY_RECV, rx.try_recv, text="rx.try_recv()"))[0])
                    elif step.kind is Kind.CLOSE_RECEIVER:
                        await rec.acall(Kind.CLOSE_RECEIVER, rx.close, text="rx.close()")
            except _Stop:
                return

        async def closer(rec: _TaskRecorder, level: int) -> None:
            try:
                await pause(level)
                await preempt()
                await rec.acall(Kind.CLOSE_SENDER, tx0.close, handle=0, text="tx0.close()")
            except _Stop:
                return

        async def guarded(body: Callable[[], Awaitable[None]], rec: _TaskRecorder) -> None:
            """An exception outside the recorded calls (a handle lacking a method, say) is a
            crash too, never a task dying silently and looking like a hang."""
            try:
                await body()
            except Exception as exc:
                rec.crashes.append(Crash(rec.name, "outside any call", f"{type(exc).__name__}: {exc}",
                                         traceback.format_exc()))
                crashed.set()

        # No start barrier is needed: tasks of one loop start together, when this one awaits.
        bodies: list[Callable[[], Awaitable[None]]] = []
        for i, script in enumerate(scenario.producers):
            rec = _TaskRecorder(f"p{i}", i + 1, crashed)
            recorders.append(rec)
            bodies.append(partial(guarded, partial(producer, i, script, rec), rec))
        crec = _TaskRecorder("consumer", len(scenario.producers) + 1, crashed)
        recorders.append(crec)
        bodies.append(partial(guarded, partial(consumer, crec), crec))
        if scenario.closer_pause is not None:
            krec = _TaskRecorder("closer", len(scenario.producers) + 2, crashed)
            recorders.append(krec)
            bodies.append(partial(guarded, partial(closer, krec, scenario.closer_pause), krec))
        else:  # main closes the original at the start, racing the others, as in the threaded runner
            bodies.append(partial(guarded, partial(closer, main, 0), main))
        await rt.supervise(bodies, bound, crashed, on_timeout)
        counted = bool(scenario.consumer) and scenario.consumer[-1].kind == COUNTED
        if not timed_out.is_set() and not crashed.is_set() and not counted:
            _drain(main, rx)  # try_recv is a plain call: made here, inside the loop

    def serve() -> None:
        try:
            rt.run(run)
        except BaseException as exc:  # outside any task: the factory, or the runtime itself
            main.crashes.append(Crash("main", "the run", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
            crashed.set()

    began = time.monotonic()
    thread = threading.Thread(target=serve, name=f"conformance-{runtime}-run", daemon=True)
    thread.start()
    thread.join(bound + GRACE)
    stuck = thread.is_alive() and not timed_out.is_set()  # the loop thread itself is stuck: abandon it
    blocked = blocked_now() if stuck else list(blocked)
    ops = [op for r in recorders for op in r.ops] + blocked
    crashes = [c for r in recorders for c in r.crashes]
    history = History(scenario.capacity, tuple(_renumber_clones(ops)), target)
    return Run(history, crashes, blocked, time.monotonic() - began)


async def _iterate(rec: _TaskRecorder, rx: Any) -> None:
    """``async for v in rx``, each ``__anext__`` recorded as a recv (the last one: Disconnected)."""
    it = rx.__aiter__()

    async def step() -> Any:
        try:
            return await it.__anext__()
        except StopAsyncIteration:
            raise Disconnected() from None

    while True:
        status, _ = await rec.acall(Kind.RECV, step, text="await anext(rx)")
        if status is not Status.OK:
            return


async def _counted(rec: _TaskRecorder, rx: Any, tally: _Tally, rt: _Runtime) -> None:
    """The ``COUNTED`` ending (a channel that neither disconnects nor closes its receiver):
    receive until every delivered message is taken, never waiting on an empty channel."""
    while True:
        coming, over = tally.state()
        if over:
            return
        if coming:
            status, _ = await rec.acall(Kind.RECV, rx.recv, text="await rx.recv()")
            tally.received(status)
        else:
            await rt.sleep(0)
