"""The job graph the driver builds and sends to the engine: nodes of operations, no code.

Each DStream or RDD object is a node; its parents are nodes; functions appear only as the
digests of their cloudpickle bytes (sent separately, once). The engine turns the graph into
its own streams and RDDs and fuses consecutive narrow operations into one Python stage.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count(1)


@dataclass(frozen=True)
class Node:
    op: str
    parents: tuple["Node", ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    functions: frozenset[str] = frozenset()
    id: int = field(default_factory=lambda: next(_ids))

    def lineage(self) -> list["Node"]:
        """This node and its ancestors, parents before children, each once."""
        ordered: list[Node] = []
        seen: set[int] = set()

        def visit(node: Node) -> None:
            if node.id in seen:
                return
            seen.add(node.id)
            for parent in node.parents:
                visit(parent)
            ordered.append(node)

        visit(self)
        return ordered


def wire(targets: list[Node]) -> tuple[list[dict[str, Any]], set[str]]:
    """The nodes that ``targets`` need, as the engine reads them, and the functions they use."""
    nodes: dict[int, Node] = {}
    for target in targets:
        for node in target.lineage():
            nodes[node.id] = node
    functions: set[str] = set()
    out = []
    for node in nodes.values():
        functions |= node.functions
        out.append({"id": node.id, "op": node.op, "parents": [p.id for p in node.parents], **node.params})
    return out, functions
