"""Recognising user functions that mean exactly what a built-in operation does.

A word count calls ``lambda w: (w, 1)`` and ``lambda a, b: a + b`` once per word: in
Python that is most of a worker's time. When a function's code is the same as such a
reference function's (same bytecode, same constants where the bytecode loads them, no
globals, closures or cells), calling it can only do what the reference does, so the worker
may run the operation another way with the same result — a dict counted in C
(``collections._count_elements``) instead of a pair per word and a call per merge.
Anything else, however similar, runs as written.
"""

from __future__ import annotations

import dis
import operator
from types import FunctionType
from typing import Any, Callable

# Code flags that change what a call does: *args, **kwargs, generator, coroutine, iterable
# coroutine, async generator. The others (optimized, new locals, nested) do not, and differ
# between a function defined at module level and one defined inside another.
_CALL_FLAGS = 0x0004 | 0x0008 | 0x0020 | 0x0080 | 0x0100 | 0x0200


def _add(a: Any, b: Any) -> Any:
    return a + b


def same_code(fn: Callable[..., Any], reference: FunctionType) -> bool:
    """Whether calling ``fn`` with the reference's positional arguments does what ``reference`` does."""
    if type(fn) is not FunctionType:
        return False
    code, ref = fn.__code__, reference.__code__
    if (
        code.co_code != ref.co_code
        or code.co_argcount != ref.co_argcount
        or code.co_posonlyargcount != ref.co_posonlyargcount
        or code.co_kwonlyargcount != ref.co_kwonlyargcount
        or (code.co_flags & _CALL_FLAGS) != (ref.co_flags & _CALL_FLAGS)
        or code.co_names != ref.co_names
        or code.co_freevars
        or code.co_cellvars
    ):
        return False
    for instruction in dis.get_instructions(ref):
        if instruction.opname == "LOAD_CONST" and instruction.arg is not None:
            ours, theirs = code.co_consts[instruction.arg], ref.co_consts[instruction.arg]
            if type(ours) is not type(theirs) or ours != theirs:
                return False
    return True


def is_add(fn: Callable[..., Any]) -> bool:
    """Whether ``fn(a, b)`` is ``a + b``: ``operator.add`` or a function whose code is exactly that."""
    return fn is operator.add or same_code(fn, _add)  # type: ignore[arg-type]


def constant_pair(fn: Callable[..., Any]) -> int | None:
    """``c`` when ``fn(x)`` is ``(x, c)`` for an int constant ``c`` (not a bool: ``True + True`` is 2,
    while a key seen once keeps ``True``); else None."""
    if type(fn) is not FunctionType or fn.__code__.co_argcount != 1:
        return None
    for constant in fn.__code__.co_consts:
        if type(constant) is int:
            reference = eval(f"lambda x: (x, {constant!r})")  # noqa: S307 - an int literal only
            if same_code(fn, reference):
                return constant
    return None
