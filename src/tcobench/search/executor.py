"""Where independent pieces of work run: in this process (the default), or on a Dask cluster.

An ``Executor`` maps a function over items and yields the results **in the items' order**, whatever order the
work finished in, so a caller that reduces them (a sweep's top-k and Pareto front) gets the same answer as one
loop in one process. At most ``window`` items are in flight at once: the results waiting to be yielded, and what
the workers hold, stay bounded whatever the number of items.

Dask (``dask.distributed``, the extra ``tcobench[distributed]``) is imported only by ``connect`` when a cluster is
asked for; ``InProcess`` imports nothing. ``connect(workers=N)`` starts a local cluster of N worker processes of one
thread each (closed with the executor); ``connect(scheduler="tcp://host:8786")`` uses a running one (started with
``dask scheduler`` and ``dask worker tcp://host:8786``), whose workers need tcobench and the same catalog files.

``DaskExecutor.together`` runs a few long tasks at once, one per worker (a load level's client processes, ``bench
--workers``): each task gets a ``Channel`` to stream messages back while it runs and to learn that it should stop;
a task whose worker dies is reported as lost (what it streamed until then has arrived), and is never run a second
time (Dask reschedules the tasks of a dead worker; a rerun finds its start recorded and refuses).
"""

from __future__ import annotations

import importlib
import itertools
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar

from tcobench.errors import InputError, InstallError, quote

T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C")

ENV_VAR = "TCOBENCH_SCHEDULER"
MAX_WORKERS = 1024
CONNECT_TIMEOUT_S = 10.0
_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ucx|inproc|ws|wss)://)?[A-Za-z0-9._\-\[\]:]+:[0-9]{1,5}$", re.ASCII)


class Executor(Protocol):
    """Runs ``fn`` over ``items``; results come back in the items' order."""

    @property
    def workers(self) -> int: ...

    def map(self, fn: Callable[[C, T], R], items: Iterable[T], context: C) -> Iterator[R]:
        """``fn(context, item)`` for each item, in the items' order; ``context`` goes to each worker once."""
        ...

    def close(self) -> None: ...


class InProcess:
    """The default: one loop in this process."""

    workers = 1

    def map(self, fn: Callable[[C, T], R], items: Iterable[T], context: C) -> Iterator[R]:
        return (fn(context, item) for item in items)

    def close(self) -> None:
        pass


class DaskExecutor:
    """Items as tasks on a ``dask.distributed`` client; ``window`` tasks at most in flight (default 2 per thread)."""

    def __init__(self, client: Any, cluster: Any = None, window: int | None = None) -> None:
        self.client, self.cluster = client, cluster
        threads = sum(client.nthreads().values()) or 1
        self._workers = threads
        self._processes = max(1, len(client.nthreads()))
        self.window = window or 2 * threads

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def address(self) -> str:
        return str(self.client.scheduler.address)

    def live_workers(self) -> int:
        """Worker processes connected now. Fewer than when this executor connected (one died, and its nanny is
        starting it again): wait up to CONNECT_TIMEOUT_S for them first, then go on with those there are."""
        try:
            self.client.wait_for_workers(self._processes, timeout=CONNECT_TIMEOUT_S)
        except (TimeoutError, OSError):
            pass
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def map(self, fn: Callable[[C, T], R], items: Iterable[T], context: C) -> Iterator[R]:
        dd = _distributed()
        it = iter(items)
        pending: dict[str, tuple[int, Any]] = {}  # task key -> (submission index, future), in flight
        done: dict[int, R] = {}  # finished before an earlier one: waiting for their turn
        nxt = sent = 0
        ac = dd.as_completed(loop=self.client.loop)
        prefix = f"tcobench-{uuid.uuid4().hex}"
        shared = self.client.scatter(context, broadcast=True, hash=False)

        def submit(item: T) -> None:
            nonlocal sent
            fut = self.client.submit(fn, shared, item, pure=False, key=f"{prefix}-{sent}")
            pending[fut.key] = (sent, fut)
            ac.add(fut)
            sent += 1

        try:
            for item in itertools.islice(it, self.window):
                submit(item)
            for fut in ac:
                i, _ = pending.pop(fut.key)
                done[i] = fut.result()  # a task's exception is raised here, in this process
                fut.release()
                for item in itertools.islice(it, 1):  # one more in flight for each one finished
                    submit(item)
                while nxt in done:
                    yield done.pop(nxt)
                    nxt += 1
        finally:
            for _, fut in pending.values():
                fut.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def together(self, fn: Callable[[C, T, Channel], R], items: Sequence[T], context: C,
                 on_message: Callable[[int, bytes], None], stop: threading.Event) -> list[Together[R]]:
        """``fn(context, item, channel)`` for every item at once, item i on worker i (at most one item per worker),
        and each one's outcome in the items' order. ``on_message(i, data)`` gets what item i's task sends, in order,
        on a thread of Dask's; every message a finished task sent has arrived when this returns. Setting ``stop``
        makes every channel's ``stopped()`` true."""
        dd = _distributed()
        addresses = sorted(self.client.scheduler_info(n_workers=-1)["workers"])
        if len(items) > len(addresses):
            raise ValueError(f"{len(items)} tasks to run together on {len(addresses)} workers")
        self.client.run(importlib.import_module, getattr(fn, "__module__", __name__))  # imported before the clock runs
        prefix = f"tcobench-{uuid.uuid4().hex}"
        received = [0] * len(items)
        arrived = threading.Condition()

        def handler(event: tuple[float, Any]) -> None:
            msg = event[1]
            on_message(int(msg["i"]), bytes(msg["data"]))
            with arrived:
                received[int(msg["i"])] += 1
                arrived.notify_all()

        self.client.subscribe_topic(prefix, handler)
        shared = self.client.scatter(context, broadcast=True, hash=False)
        futures = [self.client.submit(_together_task, fn, shared, item, i, prefix, pure=False, key=f"{prefix}-{i}",
                                      workers=[addresses[i]], allow_other_workers=True)
                   for i, item in enumerate(items)]
        stopper = threading.Thread(target=_stop_when, args=(stop, futures, dd.Event(f"{prefix}-stop", client=self.client)),
                                   daemon=True, name="tcobench-stop")
        stopper.start()
        try:
            self.client.gather(futures, errors="skip")  # waits for all; the errors are read one by one below
            out = [self._outcome(fut, addresses[i]) for i, fut in enumerate(futures)]
            deadline = time.monotonic() + MESSAGE_WAIT_S  # the last messages travel by the scheduler, the result not
            with arrived:
                arrived.wait_for(lambda: all(received[i] >= o.messages for i, o in enumerate(out)),
                                 max(0.0, deadline - time.monotonic()))
            return out
        finally:
            for fut in futures:
                fut.cancel()
            self.client.unsubscribe_topic(prefix)
            self.client.run_on_scheduler(_forget_topic, topic=prefix)
            for i in range(len(items)):
                dd.Event(f"{prefix}-run-{i}", client=self.client).clear()
            dd.Event(f"{prefix}-stop", client=self.client).clear()

    @staticmethod
    def _outcome(fut: Any, address: str) -> Together[Any]:
        if fut.status == "finished":
            result, messages, worker = fut.result()
            return Together(worker, result, None, messages)
        try:
            fut.result()
        except Exception as err:  # noqa: BLE001 - a dead worker (KilledWorker), a refused rerun, the task's own error
            if isinstance(err, _Rerun) or type(err).__name__ == "KilledWorker":
                return Together(address, None, f"the worker died ({type(err).__name__}: {err})", 0)
            raise
        return Together(address, None, f"the task ended as {fut.status}", 0)


MESSAGE_WAIT_S = 10.0  # after the tasks end, how long their last messages may take to arrive


class Channel:
    """A task's way back to the client while it runs (``DaskExecutor.together``): ``send`` a message (bytes),
    ask whether it should ``stop``. Made on the worker; thread-safe."""

    def __init__(self, worker: Any, topic: str, index: int, stop: Any) -> None:
        self._worker, self._topic, self._index, self._stop = worker, topic, index, stop
        self.sent = 0
        self.address = str(worker.address)

    def send(self, data: bytes) -> None:
        self._worker.log_event(self._topic, {"i": self._index, "data": data})
        self.sent += 1

    def stopped(self) -> bool:
        """True once the client asked every task to stop (a round trip to the scheduler: call it off the hot path)."""
        return bool(self._stop.is_set())


@dataclass(frozen=True, slots=True)
class Together(Generic[R]):
    """One task's outcome: the worker it ran on, its result or (``error``) why there is none, messages it sent."""

    worker: str
    result: R | None
    error: str | None
    messages: int


class _Rerun(RuntimeError):
    """A task of ``together`` that Dask started a second time, after its worker died: refused."""


def _together_task(fn: Callable[[C, T, Channel], R], context: C, item: T, index: int,
                   prefix: str) -> tuple[R, int, str]:
    dd = _distributed()
    started = dd.Event(f"{prefix}-run-{index}")
    if started.is_set():
        raise _Rerun(f"task {index} started a second time after its worker died; not run again")
    started.set()
    channel = Channel(dd.get_worker(), prefix, index, dd.Event(f"{prefix}-stop"))
    result = fn(context, item, channel)
    return result, channel.sent, channel.address


def _forget_topic(dask_scheduler: Any, topic: str) -> None:
    """Drop what the scheduler kept of a topic's messages: it keeps the last 1000 of every topic for good (Dask's
    low-level-log-length), which for a bench level is up to 1000 batches of records. Through the scheduler's broker,
    not a public API, so only where it is there."""
    truncate = getattr(getattr(dask_scheduler, "_broker", None), "truncate", None)
    if callable(truncate):
        truncate(topic)


def _stop_when(stop: threading.Event, futures: list[Any], flag: Any) -> None:
    """Set the cluster-wide ``flag`` once ``stop`` is set, unless every task ended first."""
    while not stop.wait(0.05):
        if all(f.done() for f in futures):
            return
    flag.set()


def _distributed() -> Any:
    """``dask.distributed``, imported here only (typed as Any: its functions carry no annotations)."""
    try:
        import distributed  # type: ignore[import-not-found, unused-ignore]
    except ModuleNotFoundError as err:
        raise InstallError("running on Dask needs the extra 'distributed', which is not installed: "
                           "pip install 'tcobench[distributed]'") from err
    mod: Any = distributed
    return mod


def _dask_config() -> Any:
    import dask.config  # type: ignore[import-not-found, unused-ignore]

    mod: Any = dask.config
    return mod


def scheduler_from_env(scheduler: str | None) -> str | None:
    """``scheduler``, else ``TCOBENCH_SCHEDULER`` when set and not empty."""
    return scheduler if scheduler is not None else (os.environ.get(ENV_VAR) or None)


def check_target(workers: int | None, scheduler: str | None) -> None:
    """Refuse both at once, a worker count outside 1..MAX_WORKERS, or an address that is not [proto://]host:port."""
    if workers is not None and scheduler is not None:
        raise InputError(f"{{workers}} {workers} and {{scheduler}} {quote(scheduler)}: give one of them (a local "
                         "cluster of N processes, or a running scheduler's address)", params=("workers", "scheduler"))
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or not 1 <= workers <= MAX_WORKERS):
        raise InputError(f"{{workers}} {quote(workers)}: expected a whole number of worker processes from 1 to "
                         f"{MAX_WORKERS}", params=("workers",))
    if scheduler is not None and not _ADDRESS.match(scheduler):
        raise InputError(f"{{scheduler}} {quote(scheduler)}: expected a Dask scheduler's address, e.g. "
                         f"'tcp://10.0.0.5:8786' (also {ENV_VAR})", params=("scheduler",))


# What a local cluster's workers leave out when they generate load (``connect(quiet=True)``): the profiler samples every
# thread's stack every 10 ms and the system monitor reads psutil's counters every 0.5 s, the memory monitor every
# 0.1 s, each holding the GIL the load generator's event loop needs. At 500 requests/s a 1-worker bench's client lag
# p99 read 27 and 40 ms with them in 2 rounds of 3 (2.3 in the third), 3.7-4.5 ms without: thin evidence, in
# docs/distributed.md, "Speed of bench --workers".
QUIET_WORKERS = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.interval": "60s",
                 "distributed.worker.memory.monitor-interval": "60s"}


def connect(workers: int | None = None, scheduler: str | None = None, *, quiet: bool = False) -> InProcess | DaskExecutor:
    """``InProcess()`` when neither is given; else a Dask executor: a local cluster of ``workers`` processes (one
    thread each), or a client of the scheduler at ``scheduler``. Raises InstallError without the extra, InputError
    when no scheduler answers at the address. ``quiet``: a local cluster's workers run without Dask's periodic
    profiler and monitors (``QUIET_WORKERS``), for timing-sensitive work (``bench``)."""
    check_target(workers, scheduler)
    if workers is None and scheduler is None:
        return InProcess()
    dd = _distributed()
    if scheduler is not None:
        try:
            client = dd.Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise InputError(f"{{scheduler}} {quote(scheduler)}: no Dask scheduler answered within "
                             f"{CONNECT_TIMEOUT_S:.0f} s ({err}); start one with 'dask scheduler' and workers with "
                             "'dask worker ADDRESS'", params=("scheduler",)) from err
        if not client.nthreads():
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as err:
                client.close()
                raise InputError(f"{{scheduler}} {quote(scheduler)}: the scheduler has no workers (none joined within "
                                 f"{CONNECT_TIMEOUT_S:.0f} s); start some with 'dask worker {scheduler}'",
                                 params=("scheduler",)) from err
        return DaskExecutor(client)
    # the scheduler's web pages on a free port (8787 may be another cluster's); logs at ERROR only (logging.ERROR):
    # a worker's start and shutdown chatter is not the user's business
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers, so glibc gives a chunk's freed arrays back to
    # the system and maps them again for the next: a sweep ran 4x slower per worker than in this process (measured,
    # benchmarks/sweep_dask.py). Unset, glibc keeps its default, adaptive threshold, as in this process.
    with _dask_config().set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                             **(QUIET_WORKERS if quiet else {})}):
        cluster = dd.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               worker_dashboard_address=None, silence_logs=40)
    return DaskExecutor(dd.Client(cluster, set_as_default=False), cluster)
