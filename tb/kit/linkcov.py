"""Block-level functional coverage of flow control: every stream link of every block test
stalled while valid, fed with gaps and held by its block
(``melstm.block_links.<block>.<link>``).

The block tests sample it through the shared driver and sink (:func:`sample_link`, called by
``tb/kit/blocktb.run_stream`` and the tests with their own benches) and export it with the
sign-off's other cover groups (``tb/flow/signoff/funcov.export``, ``COV=1`` only).  Every
link's cover point is defined when this module is imported, so every export lists every bin
and an unhit one shows as a hole in ``make signoff``'s report.  The chip-level links (inside
``chip_top``) are the top environment's group ``melstm.links.stalled``.

Bins of an input link (per item): ``back to back`` (no idle cycle before it), ``after a gap``,
``held by the block`` (offered, valid high, while the block's ready was low).  Output link:
``taken at once``, ``stalled 1-15`` and ``stalled 16+`` (cycles the item was held valid with
ready low).
"""

from __future__ import annotations

from collections.abc import Sequence

from cocotb_coverage import coverage as cv

from refmodel.mel import stages as mel_stages
from tb.flow.signoff import funcov

IN_BINS = ("back to back", "after a gap", "held by the block")
OUT_BINS = {"taken at once": (0, 0), "stalled 1-15": (1, 15), "stalled 16+": (16, 1 << 62)}

# block -> {link: "in" | "out"}: the stream interfaces of the block tests
LINKS: dict[str, dict[str, str]] = {
    "prim_fifo": {"in": "in", "out": "out"},
    **{b: {"in": "in", "out": "out"} for b in mel_stages.names()},
    "mel_frontend": {"in": "in", "out": "out"},
    "lstm_seq": {"in": "in"},
    "lstm_head": {"start": "in", "det": "out"},
    "lstm_detector": {"in": "in", "det": "out"},
}


def _point(name: str, side: str):
    if side == "in":
        @cv.CoverPoint(name, xf=lambda kinds: kinds, bins=list(IN_BINS),
                       rel=lambda kinds, b: b in kinds, inj=False)
        def sample_in(kinds: frozenset[str]):
            pass

        return sample_in

    @cv.CoverPoint(name, xf=lambda n: n, bins=list(OUT_BINS),
                   rel=lambda n, b: OUT_BINS[b][0] <= n <= OUT_BINS[b][1])
    def sample_out(cycles: int):
        pass

    return sample_out


_POINTS = {(blk, link): _point(f"{funcov.ROOT_NAME}.block_links.{blk}.{link}", side)
           for blk, links in LINKS.items() for link, side in links.items()}


def sample_link(block: str, link: str, *, gaps: Sequence[int] = (),
                held: Sequence[int] = ()) -> None:
    """One run's traffic on ``link`` of ``block``: for an input, the gaps drawn (non-zero
    ones) and each item's cycles held by the block; for an output, each item's stall."""
    if (block, link) not in _POINTS:
        raise KeyError(f"no link coverage for {block}.{link} (known: {sorted(_POINTS)})")
    point = _POINTS[(block, link)]
    if LINKS[block][link] == "in":
        kinds = set()
        if len(gaps) < len(held):
            kinds.add("back to back")
        if len(gaps):
            kinds.add("after a gap")
        if any(h > 0 for h in held):
            kinds.add("held by the block")
        if kinds:
            point(frozenset(kinds))
        return
    for n in {min(int(h), 16) for h in held}:  # one hit per bin present, not per item
        point(n)


def export() -> None:
    """Write the coverage database (``COV=1`` only; see ``funcov.export``)."""
    funcov.export()
