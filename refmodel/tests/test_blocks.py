"""The finding rule holds for every block: RTL, model and test where the rule says."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from refmodel import blocks

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = blocks.all_blocks()


def test_every_rtl_module_is_in_the_table() -> None:
    on_disk = {(p.parent.name, p.stem) for ip in blocks.IPS
               for p in (ROOT / "rtl" / ip).glob("*.sv") if not p.stem.endswith("_pkg")}
    listed = {(b.ip, b.block) for b in BLOCKS}
    assert on_disk == listed, (f"in rtl/ but not in a stage table: {sorted(on_disk - listed)}; "
                               f"listed but not in rtl/: {sorted(listed - on_disk)}")
    assert len(listed) == len(BLOCKS), "a block is listed twice"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.block for b in BLOCKS])
def test_block_follows_the_rule(block: blocks.Block) -> None:
    assert block.block.startswith(f"{block.ip}_"), f"{block.block}: prefix is not {block.ip}_"
    assert (ROOT / block.rtl).is_file(), block.rtl
    assert (ROOT / block.test).is_file(), f"{block.block}: no test {block.test}"
    if block.model is None:
        assert block.note, f"{block.block}: no model and no note saying why"
        return
    name = block.block.removeprefix(f"{block.ip}_")
    if block.ip != "prim":  # the primitives' one model is the shared refmodel/fixed.py
        assert block.model_file == f"refmodel/{block.ip}/{name}.py", (
            f"{block.block}: model {block.model} is not in refmodel/{block.ip}/{name}.py")
    module, attr = block.model.rsplit(".", 1)
    assert hasattr(importlib.import_module(module), attr), f"{block.model} does not exist"


def header(block: blocks.Block) -> str:
    """The RTL file's comment lines before ``module``, joined with single spaces."""
    text = (ROOT / block.rtl).read_text().split("\nmodule", 1)[0]
    lines = [ln.strip().removeprefix("//") for ln in text.splitlines()
             if ln.strip().startswith("//")]
    return " ".join(" ".join(lines).split())


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.rates], ids=lambda b: b.block)
def test_header_states_the_documented_throughput(block: blocks.Block) -> None:
    """Each throughput figure is written once, in the stage table; the header must say it."""
    head = header(block)
    assert "Throughput:" in head, f"{block.rtl}: no Throughput: line in the header"
    for r in block.rates:
        assert r.text in head, (f"{block.rtl}: the header does not say {r.text!r} (the stage "
                                f"table's figure, {r.doc})")
