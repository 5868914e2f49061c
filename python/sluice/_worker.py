"""A Python worker: runs the user's functions over chunks of records for the engine.

The engine starts a pool of these (``python -m sluice._worker <fd>``) and reuses them for
every task of the job. Each talks to the engine over the socket at file descriptor ``fd``
with frames (``_frames``); standard output and error stay the user's, for print().

A task is one partition of one stage (``_task``). A user exception answers ``error`` with
its traceback, starting at the user's code; the engine fails the task with it.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

import cloudpickle

from ._blobs import DeserializationError, UserError
from ._frames import ChannelClosed, FrameSocket
from ._task import Task, TaskAbandoned

_PACKAGE = str(Path(__file__).resolve().parent)


def _describe(error: BaseException) -> dict[str, Any]:
    original = error.error if isinstance(error, UserError) else error
    tb = original.__traceback__
    # Start the traceback at the user's code: frames of this package are the engine's business.
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE):
        tb = tb.tb_next
    if tb is None:  # the error is the worker's own: keep all of it
        tb = original.__traceback__
    text = "".join(traceback.format_exception(type(original), original, tb))
    return {
        "type": type(original).__name__,
        "message": str(original),
        "traceback": text,
        "deserialization": isinstance(original, DeserializationError),
    }


def serve(channel: FrameSocket) -> None:
    functions: dict[str, Callable[..., Any]] = {}
    message: list[Any] | None = None
    while True:
        if message is None:
            try:
                message = channel.receive()
            except ChannelClosed:
                return
        kind = message[0]
        if kind == "hello":
            channel.send(["ready", {"pid": os.getpid()}])
            message = None
            continue
        if kind == "exit":
            return
        task_id = message[1]
        if kind != "task":
            # A chunk or end of a task that failed: each message still gets its one answer.
            channel.send(["error", task_id, _describe(ValueError(f"task {task_id} is not running"))])
            message = None
            continue
        spec, payloads = message[2], message[3]
        message = None
        try:
            for digest, payload in payloads.items():
                if digest not in functions:
                    functions[digest] = cloudpickle.loads(payload)
            task = Task(spec, functions)
            channel.send(["started", task_id])
            task.run(channel, task_id)
        except TaskAbandoned as abandoned:
            message = abandoned.message
        except ChannelClosed:
            return
        except Exception as error:  # noqa: BLE001 - every failure goes back to the engine
            channel.send(["error", task_id, _describe(error)])


def main() -> None:
    # Ctrl-C in the driver's terminal is the driver's to handle; the engine stops the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = int(sys.argv[1])
    channel = FrameSocket(socket.socket(fileno=fd), "the sluice engine")
    try:
        serve(channel)
    finally:
        channel.close()


if __name__ == "__main__":
    main()
