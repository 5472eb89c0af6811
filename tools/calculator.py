"""A calculator tool: arithmetic on numbers, evaluated by walking the syntax tree.

Model output never reaches eval(): only number literals, + - * / // % ** and parentheses are
accepted, with bounded exponents.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable

__all__ = ["calculate"]

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg,
}
_MAX_EXPONENT = 100


def _value(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(
            node.value, bool):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise ValueError(f"exponent {right:g} is too large (at most {_MAX_EXPONENT})")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand))
    raise ValueError(f"only numbers and + - * / // % ** ( ) are allowed, not {ast.dump(node)[:40]}")


def calculate(expression: str) -> float:
    """Evaluate an arithmetic expression and return its value.

    Args:
        expression: numbers combined with + - * / // % ** and parentheses.
    """
    try:
        tree = ast.parse(expression.replace("^", "**").replace("\u00d7", "*"), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from exc
    try:
        return _value(tree.body)
    except ZeroDivisionError as exc:
        raise ValueError("division by zero") from exc
