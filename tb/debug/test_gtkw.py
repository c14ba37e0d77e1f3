"""Unit tests of ``tb/debug/gtkw.py`` (no simulator): the save-file text, GTKWave's signal
names, and the FST hierarchy reader on FST files built here (gzip and LZ4 hierarchy blocks).
A real FST from each simulator is checked by ``tb/debug``."""

from __future__ import annotations

import gzip
import math
import struct

import pytest

from tb.debug import gtkw


def _view() -> gtkw.SaveFile:
    rows = [
        gtkw.Group("clock", [gtkw.Trace("top.clk", "bin")]),
        gtkw.Group("stage A: values diverge here", [
            gtkw.Trace("top.u_a.data[15:0]", "sdec"),
            gtkw.Trace("top.u_a.data[15:0]", "analog"),
            gtkw.Comment("a  note"),
        ]),
        gtkw.Group("others", [gtkw.Group("stage B", [gtkw.Trace("top.u_b.k[7:0]", "dec")],
                                         open=False)]),
        gtkw.Trace("top.out[31:0]"),
    ]
    return gtkw.SaveFile("/runs/dump.fst", rows, start=1000, end=5000, marker=4000,
                         named=[gtkw.Marker(2000, "first wrong value"), gtkw.Marker(1500)])


def test_save_file_text_reads_back() -> None:
    view = _view()
    text = view.text()
    info = gtkw.read_save_file(text)
    assert info["dumpfile"] == "/runs/dump.fst"
    assert info["timestart"] == 1000
    assert info["marker"] == 4000
    assert info["named"] == [2000, 1500] + [-1] * 24
    assert info["markernames"] == {"A": "first wrong value"}
    assert info["signals"] == ["top.clk", "top.u_a.data[15:0]", "top.u_a.data[15:0]",
                               "top.u_b.k[7:0]", "top.out[31:0]"]
    assert info["groups"] == [("clock", True), ("stage A: values diverge here", True),
                              ("others", True), ("stage B", False)]
    assert [t.name for t in view.traces()] == info["signals"]


def test_save_file_flags() -> None:
    lines = _view().text().splitlines()
    body = lines[lines.index("[sst_vpaned_height] 200") + 1:]
    assert body[:4] == ["@800200", "-clock", "@28", "top.clk"]  # open group, binary
    assert body[4:6] == ["@1000200", "-clock"]  # open group's end
    i = body.index("top.u_a.data[15:0]")
    assert body[i - 1] == "@424"  # signed decimal
    assert body[i + 1:i + 8] == ["@10424", "top.u_a.data[15:0]", "@20000", "-", "-", "-", "-"]
    assert body[i + 8:i + 10] == ["@200", "-a note"]  # a comment row, blanks squeezed
    j = body.index("-stage B")
    assert body[j - 1] == "@c00200"  # closed group
    assert body[body.index("-stage B", j + 1) - 1] == "@1401200"  # closed end, collapsed
    assert body[-2:] == ["@22", "top.out[31:0]"]  # hex


def test_zoom_fills_the_waveform_pane() -> None:
    view = _view()
    z = gtkw.read_save_file(view.text())["zoom"]
    per_pixel = 2 ** -z / gtkw.PIXELS_PER_FRAME
    assert math.isclose(per_pixel * view.wave_px, 4000, rel_tol=1e-5)


def test_bad_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        gtkw.Trace("top.x", "octal")
    with pytest.raises(ValueError, match="blanks"):
        gtkw.Trace("top.x y")
    with pytest.raises(ValueError, match="named markers"):
        gtkw.SaveFile("d.fst", [], named=[gtkw.Marker(k) for k in range(27)]).text()


def test_signal_name() -> None:
    assert gtkw.signal_name("top.clk") == "top.clk"
    assert gtkw.signal_name("top.d", 16) == "top.d[15:0]"
    assert gtkw.signal_name("top.d", 8, 15, 8) == "top.d[15:8]"


@pytest.mark.parametrize(("raw", "length", "vartype", "name"), [
    ("clk", 1, 16, "clk"),
    ("data [7:0]", 8, 16, "data[7:0]"),  # Verilator and Icarus: a blank before the range
    ("cnt", 4, 16, "cnt[3:0]"),  # no range given
    ("bit[3]", 1, 16, "bit[3]"),  # one bit of an array
    ("row[2]", 8, 16, "row[2][7:0]"),  # a row of an array of vectors
    ("uu_q [0:0]", 1, 16, "uu_q[0]"),  # a one-bit vector
    ("pk [7:0]", 32, 16, "pk[31:0]"),  # packed 2-D: GTKWave flattens it
    ("Width [31:0]", 32, 2, "Width"),  # a parameter: no range
    ("n", 32, 1, "n"),  # an integer
])
def test_gtkwave_spelling_of_fst_names(raw: str, length: int, vartype: int,
                                       name: str) -> None:
    assert gtkw._var_name(raw, length, vartype) == name


# ------------------------------------------------------------------------ FST reading
def _lz4_literals(data: bytes) -> bytes:
    """``data`` as one LZ4 block of literals only (valid, not compressed)."""
    n = len(data)
    if n < 15:
        return bytes([n << 4]) + data
    rest, out = n - 15, bytearray([0xF0])
    while rest >= 255:
        out.append(255)
        rest -= 255
    return bytes(out) + bytes([rest]) + data


def test_lz4_block_decompress() -> None:
    # "abc", then a 9-byte match 3 back (overlapping its own output), then "X"
    block = bytes([0x35]) + b"abc" + bytes([3, 0]) + bytes([0x10]) + b"X"
    assert gtkw.lz4_block_decompress(block, 13) == b"abcabcabcabcX"
    payload = bytes(range(256)) * 3
    assert gtkw.lz4_block_decompress(_lz4_literals(payload), len(payload)) == payload
    with pytest.raises(gtkw.FstError, match="offset"):
        gtkw.lz4_block_decompress(bytes([0x35]) + b"abc" + bytes([9, 0]), 13)
    with pytest.raises(gtkw.FstError, match="expected"):
        gtkw.lz4_block_decompress(_lz4_literals(b"abc"), 4)


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _hierarchy() -> bytes:
    def scope(name):
        return bytes([254, 0]) + name.encode() + b"\0\0"

    def var(tag, name, length, alias=0):
        return bytes([tag, 0]) + name.encode() + b"\0" + _varint(length) + _varint(alias)

    return (scope("chip_tb") + var(16, "clk_i", 1) + var(16, "tap_feat_o [255:0]", 256)
            + var(2, "Window [31:0]", 32) + bytes([252, 0, 0]) + b"attr\0" + _varint(7)
            + bytes([253]) + scope("u_top") + var(23, "frame_q [31:0]", 32)
            + var(23, "uu_q [0:0]", 1) + var(16, "alias_of_clk", 1, alias=1)
            + bytes([255, 255]))


def _fst(kind: int) -> bytes:
    hdr = struct.pack(">QQdQQQQQb", 0, 123_000, math.e, 0, 2, 6, 5, 1, -12) + bytes(128 + 26
                                                                                    + 100)
    blocks = bytes([0]) + struct.pack(">Q", 8 + len(hdr)) + hdr
    hier = _hierarchy()
    body = struct.pack(">Q", len(hier)) + (gzip.compress(hier) if kind == 4
                                           else _lz4_literals(hier))
    return blocks + bytes([kind]) + struct.pack(">Q", 8 + len(body)) + body


@pytest.mark.parametrize("kind", [4, 6], ids=["gzip", "lz4"])
def test_read_fst(tmp_path, kind: int) -> None:
    path = tmp_path / "dump.fst"
    path.write_bytes(_fst(kind))
    info = gtkw.read_fst(path)
    assert (info.start, info.end, info.timescale) == (0, 123_000, -12)
    assert info.names == {"chip_tb.clk_i", "chip_tb.tap_feat_o[255:0]",
                          "chip_tb.Window", "chip_tb.u_top.frame_q[31:0]",
                          "chip_tb.u_top.uu_q[0]", "chip_tb.u_top.alias_of_clk"}
    view = gtkw.SaveFile(str(path), [gtkw.Trace("chip_tb.clk_i", "bin"),
                                     gtkw.Trace("chip_tb.u_top.frame_q[31:0]", "dec"),
                                     gtkw.Trace("chip_tb.u_top.nope", "bin")])
    assert gtkw.missing_signals(view.text()) == ["chip_tb.u_top.nope"]
    saved = tmp_path / "view.gtkw"
    view.write(saved)
    assert gtkw.main(["check", str(saved)]) == 1
    assert gtkw.main(["check", str(saved), str(tmp_path / "missing.fst")]) == 2


def test_read_fst_refuses_a_truncated_file(tmp_path) -> None:
    path = tmp_path / "dump.fst"
    path.write_bytes(_fst(4)[:-10])
    with pytest.raises(gtkw.FstError, match="past the end"):
        gtkw.read_fst(path)
