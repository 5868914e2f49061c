"""The StreamingContext: defines a streaming job in the driver and runs it in the engine."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any, Callable, Mapping, Union

from . import _engine
from ._graph import Node, wire
from ._names import camel_keys
from .batch import Batch
from .dstream import DStream, seconds_to_ms
from .errors import EngineDied, SluiceError
from .listener import StreamingListener, deliver
from .rdd import RDD

BatchFunction = Callable[[RDD[Any], Batch], Any]
UiOption = Union[bool, Mapping[str, Any]]


class StreamingContext:
    """A streaming job: its inputs, operations and outputs, and the batch loop that runs them.

    ``batch_interval`` is in seconds, as in PySpark. With a ``checkpoint`` directory the
    offsets of every batch are logged before it runs, and a restarted job resumes exactly
    where it stopped; the checkpoint holds offsets and state only, never code, so the
    restarted job may change its functions. ``workers`` is the size of the Python worker
    pool (default: the machine's CPU count).

    ``ui=True`` (or ``{"port": 4040, "host": "127.0.0.1"}``) serves the engine's web UI,
    ``/metrics``, ``/healthz`` and ``/readyz`` while the stream runs (``ui_url`` says where).
    With ``stop_on_signals`` (the default), SIGINT and SIGTERM stop the stream gracefully
    (the running batch commits within ``stop_timeout`` seconds) and ``await_termination``
    returns; a second signal exits at once, uncommitted, as a kill would.
    """

    def __init__(
        self,
        app_name: str,
        batch_interval: float,
        checkpoint: str | None = None,
        *,
        workers: int | None = None,
        task_concurrency: int | None = None,
        max_task_attempts: int | None = None,
        checkpoint_retain: int | None = None,
        ui: UiOption | None = None,
        stop_on_signals: bool = True,
        stop_timeout: float | None = None,
    ) -> None:
        if not isinstance(app_name, str) or not app_name.strip():
            raise ValueError(f"app_name must be a non-empty string, got {app_name!r}")
        if checkpoint is not None and (not isinstance(checkpoint, str) or checkpoint == ""):
            raise ValueError(f"checkpoint must be a directory path, got {checkpoint!r}")
        for name, value in (
            ("task_concurrency", task_concurrency),
            ("max_task_attempts", max_task_attempts),
            ("checkpoint_retain", checkpoint_retain),
        ):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if ui is not None and not isinstance(ui, (bool, Mapping)):
            raise ValueError(f"ui must be True, False or a dict of port and host, got {ui!r}")
        if stop_timeout is not None and (
            isinstance(stop_timeout, bool) or not isinstance(stop_timeout, (int, float)) or stop_timeout < 0
        ):
            raise ValueError(f"stop_timeout must be a non-negative number of seconds, got {stop_timeout!r}")
        self.app_name = app_name
        self.batch_interval = batch_interval
        self.batch_interval_ms = seconds_to_ms(batch_interval, "batch_interval")
        self.checkpoint = checkpoint
        self._job_options = {
            "task_concurrency": task_concurrency,
            "max_task_attempts": max_task_attempts,
            "checkpoint_retain": checkpoint_retain,
            "ui": _ui_option(ui),
            "stop_timeout_ms": None if stop_timeout is None else round(stop_timeout * 1000),
        }
        self._stop_on_signals = stop_on_signals
        self._listeners: list[StreamingListener] = []
        self._restore_signals: Callable[[], None] | None = None
        self.ui_url: str | None = None
        """Where the web UI listens while the stream runs (with ``ui``), e.g. ``http://127.0.0.1:4040/``."""
        _engine.configure(workers)
        self._outputs: list[tuple[DStream[Any], BatchFunction]] = []
        self._state = "initialized"
        self._engine: _engine.Engine | None = None
        self._terminated = threading.Event()
        self._error: SluiceError | None = None

    @property
    def state(self) -> str:
        """'initialized', 'active' or 'stopped'."""
        return self._state

    def _check_not_started(self, what: str) -> None:
        if self._state != "initialized":
            raise SluiceError("SLUICE_INVALID_ARGUMENT", f"cannot {what} after the StreamingContext started")

    def _input(self, node: Node) -> DStream[Any]:
        self._check_not_started("add an input stream")
        return DStream(self, node)

    def add_listener(self, listener: StreamingListener) -> None:
        """Adds a listener of the stream's events (see :class:`StreamingListener`), before ``start()``."""
        self._check_not_started("add a listener")
        self._listeners.append(listener)

    def _add_output(self, stream: DStream[Any], fn: BatchFunction) -> None:
        self._check_not_started("add an output operation")
        self._outputs.append((stream, fn))

    @property
    def engine(self) -> _engine.Engine:
        """The engine process running the job (started on first use)."""
        if self._engine is None:
            self._engine = _engine.get_engine()
        return self._engine

    def start(self) -> None:
        """Starts the job: opens the checkpoint, recovers, and begins the batches. Returns at once."""
        self._check_not_started("start the context again")
        if not self._outputs:
            raise SluiceError(
                "SLUICE_INVALID_ARGUMENT", "no output operation: add foreach_batch or pprint before start()"
            )
        engine = self.engine
        nodes, functions = wire([stream._node for stream, _ in self._outputs])
        engine.on_request("batch", self._run_batch)
        engine.on_event("terminated", self._on_terminated)
        engine.on_event("listener", lambda event: deliver(self._listeners, event), in_order=True)
        engine.on_death.append(self._on_engine_death)
        self._state = "active"
        if self._stop_on_signals:
            self._install_signal_handlers()
        try:
            started = engine.call(
                "job.start",
                {
                    "app": self.app_name,
                    "batch_interval_ms": self.batch_interval_ms,
                    "checkpoint": self.checkpoint,
                    **self._job_options,
                    "listen": bool(self._listeners),
                    "nodes": nodes,
                    "outputs": [{"node": stream._node.id, "index": i} for i, (stream, _) in enumerate(self._outputs)],
                },
                functions,
            )
        except SluiceError:
            self._state = "stopped"
            self._terminated.set()
            self._remove_signal_handlers()
            raise
        self.ui_url = started["ui_url"]

    def _install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM: a graceful stop; the second one exits at once (Python allows
        handlers in the main thread only: elsewhere the stream keeps Python's own behaviour)."""
        if threading.current_thread() is not threading.main_thread():
            return
        received = 0

        def on_signal(signum: int, _frame: Any) -> None:
            nonlocal received
            received += 1
            if received > 1:
                os._exit(128 + signum)
            threading.Thread(target=self._request_stop, args=(True,), name="sluice-signal-stop", daemon=True).start()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        self._restore_signals = restore

    def _remove_signal_handlers(self) -> None:
        restore, self._restore_signals = self._restore_signals, None
        if restore is not None and threading.current_thread() is threading.main_thread():
            restore()

    def _run_batch(self, params: dict[str, Any]) -> None:
        stream, fn = self._outputs[params["output"]]
        batch = Batch._from_engine(params["batch"])
        kafka_rdd = stream._node.op == "kafka_stream"
        rdd: RDD[Any] = RDD(
            self.engine,
            Node("batch_rdd", params={"handle": params["rdd"]}),
            batch.offset_ranges if kafka_rdd else None,
        )
        fn(rdd, batch)

    def _on_terminated(self, params: dict[str, Any]) -> None:
        error = params.get("error")
        if error:
            self._error = SluiceError(error["code"], error["message"])
        self._state = "stopped"
        self._terminated.set()

    def _on_engine_death(self, error: EngineDied) -> None:
        if not self._terminated.is_set():
            self._error = error
            self._state = "stopped"
            self._terminated.set()

    def stop(self, graceful: bool = True) -> None:
        """Stops the job. Graceful: the running batch finishes and commits. Forced: it is
        abandoned uncommitted, and a restart re-runs it."""
        if self._state == "initialized":
            self._state = "stopped"
            self._terminated.set()
            return
        if self._state == "stopped" or self._engine is None:
            return
        if self._engine.in_callback():
            # Inside foreach_batch: a graceful stop waits for this very batch. Ask for it and
            # return; the batch commits when the function returns, then the job stops.
            threading.Thread(target=self._request_stop, args=(graceful,), daemon=True).start()
            return
        self._request_stop(graceful)
        self._terminated.wait()

    def _request_stop(self, graceful: bool) -> None:
        assert self._engine is not None
        try:
            self._engine.call("job.stop", {"graceful": graceful})
        except EngineDied:
            pass

    def await_termination(self, timeout: float | None = None) -> bool:
        """Waits until the job stops; raises the error that stopped it. With a timeout, returns
        False if it is still running then. Ctrl-C stops the job gracefully and re-raises."""
        try:
            # Waiting in slices keeps Ctrl-C deliverable to the main thread.
            remaining = timeout
            while not self._terminated.wait(0.2 if remaining is None else min(0.2, remaining)):
                if remaining is not None:
                    remaining -= 0.2
                    if remaining <= 0:
                        return False
        except KeyboardInterrupt:
            self.stop(graceful=True)
            raise
        self._remove_signal_handlers()
        if self._error is not None:
            raise self._error
        return True

    def __enter__(self) -> "StreamingContext":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop(graceful=exc[0] is None)


def _ui_option(ui: UiOption | None) -> Any:
    if ui is None or ui is False:
        return None
    if ui is True:
        return True
    return camel_keys(ui)

