"""A graph's picture as SVG, drawn here (no JavaScript library, no network): nodes in rows by
their distance from the start, edges as arrows, conditional edges dashed."""

from __future__ import annotations

from collections import deque
from html import escape
from typing import Any

__all__ = ["graph_svg"]

_W, _H, _GAP_X, _GAP_Y = 130, 34, 30, 40


def graph_svg(graph: Any) -> str:
    """`graph`: LangGraph's drawable graph (`compiled.get_graph()`: .nodes, .edges)."""
    names = list(graph.nodes)
    after: dict[str, list[str]] = {n: [] for n in names}
    for edge in graph.edges:
        after[edge.source].append(edge.target)
    start = "__start__" if "__start__" in after else names[0] if names else None
    depth: dict[str, int] = {start: 0} if start is not None else {}
    todo = deque(depth)
    while todo:
        node = todo.popleft()
        for nxt in after[node]:
            if nxt not in depth:
                depth[nxt] = depth[node] + 1
                todo.append(nxt)
    if "__end__" in depth:  # the end is drawn last, below every node that leads to it
        depth["__end__"] = max(depth.values()) + 1
    rows: dict[int, list[str]] = {}
    for name in names:
        rows.setdefault(depth.get(name, max(depth.values(), default=0) + 1), []).append(name)
    widest = max((len(r) for r in rows.values()), default=1)
    width = widest * (_W + _GAP_X) + _GAP_X
    where: dict[str, tuple[float, float]] = {}
    for level, row in sorted(rows.items()):
        offset = (width - len(row) * (_W + _GAP_X) + _GAP_X) / 2
        for i, name in enumerate(row):
            where[name] = (offset + i * (_W + _GAP_X), _GAP_Y / 2 + level * (_H + _GAP_Y))
    height = (max(rows, default=0) + 1) * (_H + _GAP_Y)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" '
             f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z"/>'
             '</marker></defs>']
    for edge in graph.edges:
        (x1, y1), (x2, y2) = where[edge.source], where[edge.target]
        dash = ' stroke-dasharray="4 3"' if edge.conditional else ""
        parts.append(f'<line x1="{x1 + _W / 2:.0f}" y1="{y1 + _H:.0f}" x2="{x2 + _W / 2:.0f}" '
                     f'y2="{y2:.0f}" stroke="#555"{dash} marker-end="url(#arrow)"/>')
    for name, (x, y) in where.items():
        label = {"__start__": "start", "__end__": "end"}.get(name, name)
        parts.append(f'<g class="node" data-node="{escape(name)}"><rect x="{x:.0f}" '
                     f'y="{y:.0f}" width="{_W}" height="{_H}" rx="6" fill="#eef3fb" '
                     f'stroke="#4a6fa5"/><text x="{x + _W / 2:.0f}" y="{y + _H / 2 + 4:.0f}" '
                     f'text-anchor="middle" font-family="sans-serif" font-size="13">'
                     f'{escape(label)}</text></g>')
    parts.append("</svg>")
    return "\n".join(parts)
