"""Option names in both spellings: the Python API's snake_case and the engine's camelCase."""

from __future__ import annotations

import re
from typing import Any, Mapping


def camel(name: str) -> str:
    """``max_rate_per_partition`` → ``maxRatePerPartition``."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def camel_keys(options: Mapping[str, Any]) -> dict[str, Any]:
    """The same options with the engine's names, nested mappings too."""
    return {camel(k): camel_keys(v) if isinstance(v, Mapping) else v for k, v in options.items()}


_OPTION_NAMES = {
    "subscribe": "topics",
    "subscribePattern": "topic_pattern",
    "deserializers.key": "key_deserializer",
    "deserializers.value": "value_deserializer",
    "appName": "app_name",
    "batchInterval": "batch_interval",
    "connectionString": "postgres",
}
_OPTION = re.compile(r"option '([A-Za-z.]+)'")


def python_names(message: str) -> str:
    """The engine names options as TypeScript does; say them as the Python API does."""

    def rename(match: re.Match[str]) -> str:
        name = match.group(1)
        snake = _OPTION_NAMES.get(name) or re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "_" + m.group(1).lower(), name)
        return f"option '{snake}'"

    return _OPTION.sub(rename, message)
