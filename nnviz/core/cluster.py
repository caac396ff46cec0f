"""Sweep jobs on a Dask cluster: the same jobs as on this machine, sent to the scheduler the user names.

Optional: needs the ``distributed`` package (``pip install 'nnviz[cluster]'``), on this machine and on every
worker of the cluster, with nnviz itself (the workers import ``nnviz.core.sweep`` to run a job). Start a cluster
with ``dask scheduler`` on one machine and ``dask worker tcp://SCHEDULER:8786`` on each of the others, then pass
``--scheduler tcp://SCHEDULER:8786``.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable

from nnviz.core.text import quoted, shorten

CONNECT_TIMEOUT_S = 10.0
CLOSE_S = 2.0  # at most this long to close the connection when the sweep ends or stops
STOP_CHECK_S = 0.05  # a job under way asks the cluster whether to stop at most this often (each ask is a round trip)
EXTRA = "pip install 'nnviz[cluster]'"


ADDRESS = re.compile(r"^(tcp|tls|ws|wss|ucx|inproc)://[^\s/:]+(:\d{1,5})?/?$|^[^\s/:]+:\d{1,5}$")


def check_scheduler(address: str) -> str:
    """``address`` stripped; ValueError (one line) unless it reads like a scheduler's address:
    PROTOCOL://HOST[:PORT] (tcp, tls, ws, wss, ucx, inproc) or HOST:PORT."""
    text = address.strip() if isinstance(address, str) else ""
    if not ADDRESS.match(text):
        raise ValueError(f"scheduler {quoted(address)}: give the scheduler's address, e.g. tcp://HOST:8786")
    return text


def available() -> bool:
    """True when the optional ``distributed`` package is installed."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _remote_job(job, target, history, event_name):
    # Runs on a worker: the job, stopped within STOP_CHECK_S (plus a chunk) once the event is set.
    from distributed import Event, get_client

    from nnviz.core.sweep import run_job

    event = Event(event_name, client=get_client())
    last = [0.0, False]

    def should_stop() -> bool:
        now = time.monotonic()
        if not last[1] and now - last[0] >= STOP_CHECK_S:
            last[0] = now
            last[1] = event.is_set()
        return last[1]

    return run_job(job, target, history, should_stop)


def _connect(client_class, address: str, should_stop, poll_s: float):
    """A Client of the scheduler at ``address``; None when ``should_stop()`` said so first (the attempt goes on
    in a daemon thread until its timeout, and its client, if any, is closed). ValueError (one line) when the
    scheduler cannot be reached within CONNECT_TIMEOUT_S."""
    box: dict = {}
    abandoned = threading.Event()

    def connect() -> None:
        try:
            client = client_class(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except Exception as error:  # OSError, TimeoutError, or whatever distributed says of the address
            box["error"] = error
            return
        if abandoned.is_set():
            client.close()
        else:
            box["client"] = client

    thread = threading.Thread(target=connect, name="nnviz-dask-connect", daemon=True)
    thread.start()
    while thread.is_alive():
        if should_stop is not None and should_stop():
            abandoned.set()
            return None
        thread.join(poll_s)
    if "error" in box:
        error = box["error"]
        reason = shorten(f"{type(error).__name__}: {error}".replace("\n", " "), 160)
        raise ValueError(f"scheduler {quoted(address)}: cannot connect within {CONNECT_TIMEOUT_S:g} s ({reason})")
    return box["client"]


def train_on_cluster(jobs, target, history, scheduler: str, should_stop: Callable[[], bool] | None,
                     deliver: Callable, poll_s: float = 0.05) -> None:
    """Every job on the cluster at ``scheduler``; ``deliver(result)`` here as each job's results come back.
    When ``should_stop()`` says so, jobs not started are cancelled and jobs under way stop at their next check."""
    address = check_scheduler(scheduler)
    try:
        from distributed import Client, Event, as_completed
    except ImportError:
        raise ValueError(f"scheduler {quoted(address)}: a cluster needs the optional 'distributed' package: "
                         f"{EXTRA}") from None
    client = _connect(Client, address, should_stop, poll_s)
    if client is None:  # stopped while connecting
        return
    event_name = f"nnviz-stop-{uuid.uuid4().hex}"
    event = Event(event_name, client=client)
    futures = []
    try:
        futures = [client.submit(_remote_job, job, target, history, event_name, pure=False) for job in jobs]
        order = {future.key: job[0][0] for future, job in zip(futures, jobs, strict=True)}
        pending = as_completed(futures, loop=client.loop)
        remaining = len(futures)
        while remaining:
            if should_stop is not None and should_stop():
                return
            done = pending.next_batch(block=False)
            if not done:
                time.sleep(poll_s)
                continue
            remaining -= len(done)
            for future in sorted(done, key=lambda f: order[f.key]):
                for result in future.result():  # a job's error propagates
                    deliver(result)
    finally:
        # The jobs under way are told to stop, the rest cancelled, the connection closed; a dead scheduler must
        # not hold the caller (the window closing), so these goodbyes get CLOSE_S in a daemon thread.
        def goodbye() -> None:
            for step in (event.set, lambda: client.cancel(futures), lambda: client.close(timeout=CLOSE_S)):
                try:
                    step()
                except Exception:  # the cluster is gone: nothing left to tell it
                    pass

        farewell = threading.Thread(target=goodbye, name="nnviz-dask-close", daemon=True)
        farewell.start()
        farewell.join(CLOSE_S)
