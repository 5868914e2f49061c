"""Errors sluice raises in Python: the engine's error codes, and Python tracebacks from workers."""

from __future__ import annotations

from typing import Any


class SluiceError(Exception):
    """An error from the sluice engine or from user code it ran.

    ``code`` is the engine's machine-readable code (``SLUICE_BATCH_FAILED``,
    ``SLUICE_TASK_FAILED``, ``SLUICE_INVALID_OPTION``, ``SLUICE_PYTHON``...); branch on it,
    never on the message. For a Python exception in a worker, the message ends with the
    worker's Python traceback and names the batch, topic, partition and offsets.
    """

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class EngineDied(SluiceError):
    """The engine process exited or its channel broke."""

    def __init__(self, message: str) -> None:
        super().__init__("SLUICE_PYTHON_CHANNEL", message)
