"""Documented throughput of a block: one formula, written once, in RTL parameter names.

A block's RTL header states how fast it is on a line ``// Throughput: <formula> cycles per
<unit>``.  The formula lives here, in the block's row of its IP's stage table
(``refmodel/<ip>/stages.py``, or :mod:`refmodel.blocks` for the primitives), evaluated with the
numbers the RTL is built with (``package_params``, the H/P dims); ``docs/stages.md`` prints it,
``refmodel/tests/test_blocks.py`` checks that the header says exactly it, and the block's test
measures the block at full-rate input without backpressure and fails when it is slower (or,
for an ``exact`` figure, different).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Rate:
    """``cycles`` (``formula`` evaluated) clock cycles per ``unit`` of ``items`` output items,
    at full-rate input and no backpressure; ``exact``: exactly that many, else at most."""

    formula: str
    cycles: int
    unit: str = "item"
    items: int = 1
    exact: bool = True

    @property
    def text(self) -> str:
        """What the RTL header's ``Throughput:`` line says."""
        return f"{self.formula} cycle{'' if self.formula == '1' else 's'} per {self.unit}"

    @property
    def doc(self) -> str:
        """The docs' cell: formula, value for this configuration, exact or bound."""
        per = f"{self.unit} ({self.items} output items)" if self.items > 1 else self.unit
        return (f"`{self.formula}` = {'' if self.exact else 'at most '}{self.cycles} "
                f"cycle{'' if self.cycles == 1 else 's'} per {per}")


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}


def evaluate(formula: str, params: Mapping[str, int]) -> int:
    """The integer value of ``formula`` (names, integers, ``+ - * /``, parentheses); raises
    ValueError naming the formula when it uses anything else or does not divide exactly."""
    def ev(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Fraction(node.value)
        if isinstance(node, ast.Name) and node.id in params:
            return Fraction(int(params[node.id]))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(f"throughput formula {formula!r}: cannot evaluate "
                         f"{ast.unparse(node)!r} (known names: {', '.join(sorted(params))})")

    value = ev(ast.parse(formula, mode="eval"))
    if value.denominator != 1:
        raise ValueError(f"throughput formula {formula!r} is not an integer ({value})")
    return int(value)


def rate(formula: str, params: Mapping[str, int], *, unit: str = "item", items: int = 1,
         exact: bool = True) -> Rate:
    """A :class:`Rate` with ``formula`` evaluated over ``params``."""
    return Rate(formula, evaluate(formula, params), unit, items, exact)
