"""Per-unit tests of the bit-accurate LSTM detector (PE array, activation, cell, update, head)
and of its stage table (``refmodel.lstm.stages``).

Expected values come from independent formulas (Python integers, ``fractions.Fraction``,
``math``), never from the model itself.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from refmodel.lstm.act import (
    act_lookup,
    act_positive,
    act_table,
    gate_activations,
    sigmoid_unit,
    tanh_unit,
)
from refmodel.lstm.cell import cell_state, cell_update, hidden_state, tanh_input
from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.detector import DetectorWeights, lstm_step, run_fixed
from refmodel.lstm.head import flag_compare, head_logit, head_score, threshold_to_int
from refmodel.lstm.mem import locate
from refmodel.lstm.pe_array import codes_to_x, gate_acc, gate_preact
from refmodel.lstm.rtl import package_params
from refmodel.lstm.stages import dims, stage, stages
from refmodel.lstm.update import from_passes, pass_rows, to_passes, update_state

CFG = DetectorConfig()
Z_ALL = np.arange(-(1 << 15), 1 << 15, dtype=np.int64)  # every Q4.11 pre-activation


def _round_half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


# ------------------------------------------------------------------ config
def test_default_formats_are_the_documented_ones() -> None:
    c = CFG
    assert (c.hidden, c.inputs, c.window) == (32, 32, 198)
    assert (c.x_shift, c.acc_frac, c.bias_shift, c.z_shift) == (8, 20, 9, 9)
    assert (c.act_segments, c.act_frac_bits, c.act_sat) == (128, 8, 1 << 15)
    assert (c.cell_frac, c.fc_align, c.ig_align, c.c_shift, c.tanh_in_shift) == (32, 0, 1, 16, 5)
    assert (c.h_shift, c.head_z_shift, c.bout_shift) == (16, 9, 9)
    assert c.c_max_abs > c.window  # |c| < window: the cell state never saturates
    assert c.mac_cycles(8) == 1024


@pytest.mark.parametrize("kw", [dict(hidden=0), dict(window=0), dict(h_bits=7),
                                dict(acc_bits=24), dict(w_frac=20), dict(c_frac=8),
                                dict(threshold_bits=16), dict(hidden=1.5)])
def test_config_rejects_illegal_values(kw: dict) -> None:
    with pytest.raises(ValueError, match="DetectorConfig"):
        DetectorConfig(**kw)


def test_worst_case_accumulator_fits() -> None:
    for h in (16, 32, 64):
        for hb in (8, 16):
            c = DetectorConfig(hidden=h, h_bits=hb)
            worst = c.cols * 128 * (1 << (hb - 1)) + (1 << 15) * (1 << c.bias_shift)
            assert worst < 1 << 31


# ------------------------------------------------------------------ activation unit
def test_table_knots_are_rounded_sigmoid() -> None:
    tab = act_table(CFG)
    assert tab.shape == (129,)
    for k, v in enumerate(tab):
        expect = min(math.floor(_sig(k / 8) * 65536 + 0.5), 65535)
        assert v == expect, k


def test_sigmoid_interpolation_by_hand() -> None:
    tab = [int(v) for v in act_table(CFG)]
    # a knot, a mid-segment point and a generic point, with Python integer arithmetic
    for a in (0, 8 << 8, (8 << 8) + 128, (37 << 8) + 77, (127 << 8) + 255):
        k, r = a >> 8, a & 255
        expect = tab[k] + ((tab[k + 1] - tab[k]) * r + 128) // 256
        assert int(sigmoid_unit(a, CFG)) == expect
        assert int(sigmoid_unit(-a, CFG)) == 65536 - expect
    assert int(sigmoid_unit(0, CFG)) == 32768
    assert int(sigmoid_unit(1 << 15, CFG)) == 65535  # saturated (beyond the Q4.11 range)
    assert int(sigmoid_unit(-(1 << 20), CFG)) == 1


def test_sigmoid_accuracy_symmetry_monotonic_over_every_input() -> None:
    s = sigmoid_unit(Z_ALL, CFG)
    ref = 1.0 / (1.0 + np.exp(-Z_ALL / 2048.0))
    # linear-interpolation bound max|s''| d^2 / 8 (d = 1/8) plus two output roundings
    assert np.abs(s / 65536.0 - ref).max() < 0.0962 / 64 / 8 + 2 / 65536
    assert s.min() >= 1 and s.max() <= 65535
    assert np.all(np.diff(s) >= 0)
    assert np.all(s[1:] + s[1:][::-1] == 65536)  # sigmoid(-z) = 1 - sigmoid(z), z != -16


def test_tanh_accuracy_and_identity() -> None:
    t = tanh_unit(Z_ALL, CFG)
    assert np.abs(t / 32768.0 - np.tanh(Z_ALL / 2048.0)).max() < 2 * (0.0962 / 512 + 2 / 65536)
    assert np.all(t[1:] == -t[1:][::-1])
    assert t.min() == -32767 and t.max() == 32767
    # tanh(a) = 2 sigmoid(2a) - 1 exactly, on the same table
    assert np.array_equal(t, sigmoid_unit(2 * Z_ALL, CFG) - 32768)


def test_dense_lookup_equals_the_datapath() -> None:
    rng = np.random.default_rng(1)
    u = rng.integers(-(1 << 24), 1 << 24, size=20000)
    s_pos = act_positive(np.abs(u), CFG)
    assert np.array_equal(act_lookup(u, CFG), np.where(u < 0, 65536 - s_pos, s_pos))


def test_gate_activations_use_tanh_on_g_rows_only() -> None:
    h = CFG.hidden
    z = np.random.default_rng(2).integers(-(1 << 15), 1 << 15, size=(3, 4 * h))
    a = gate_activations(z, CFG)
    for k in (0, 1, 3):
        assert np.array_equal(a[:, k * h:(k + 1) * h], sigmoid_unit(z[:, k * h:(k + 1) * h], CFG))
    assert np.array_equal(a[:, 2 * h:3 * h], tanh_unit(z[:, 2 * h:3 * h], CFG))


# ------------------------------------------------------------------ PE array
def test_gate_acc_and_preact_against_python_ints() -> None:
    w = DetectorWeights.random(3, hidden=16)
    cfg = w.config
    rng = np.random.default_rng(3)
    q = rng.integers(0, 256, size=32)
    h = rng.integers(-32768, 32768, size=16)
    acc = gate_acc(codes_to_x(q, cfg), h, w)
    z = gate_preact(codes_to_x(q, cfg), h, w)
    for r in range(64):
        s = int(w.b_q[r]) * 512
        s += sum(int(w.w_ih_q[r, j]) * (int(q[j]) - 128) * 256 for j in range(32))
        s += sum(int(w.w_hh_q[r, j]) * int(h[j]) for j in range(16))
        assert int(acc[r]) == s
        assert int(z[r]) == max(-32768, min(32767, (s + 256) >> 9))


# ------------------------------------------------------------------ cell
def test_cell_state_against_fractions() -> None:
    rng = np.random.default_rng(4)
    n = 500
    i = rng.integers(1, 65536, n)
    f = rng.integers(1, 65536, n)
    g = rng.integers(-32767, 32768, n)
    c = rng.integers(-(1 << 23), 1 << 23, n)
    got = cell_state(i, f, g, c, CFG)
    for k in range(n):
        real = (Fraction(int(f[k]), 1 << 16) * Fraction(int(c[k]), 1 << 16)
                + Fraction(int(i[k]), 1 << 16) * Fraction(int(g[k]), 1 << 15))
        expect = max(-(1 << 24), min((1 << 24) - 1, _round_half_up(real * (1 << 16))))
        assert int(got[k]) == expect


def test_cell_state_saturates_and_small_increments_accumulate() -> None:
    top = (1 << 24) - 1
    assert int(cell_state(65535, 65535, 32767, top, CFG)) == top  # clipped at +256
    assert int(cell_state(65535, 65535, -32767, -top - 1, CFG)) == -top - 1  # and at -256
    assert int(cell_state(1, 65535, 0, top, CFG)) == top - 256  # f = 1 - 2**-16 leaks c/65536
    c = np.zeros(1, dtype=np.int64)
    for _ in range(198):  # i = 16/65536, g = -1, f = 65535/65536: float c reaches ~ -0.048
        c = cell_state(16, 65535, -32767, c, CFG)
    assert abs(c[0] / 65536 - (-0.0483)) < 0.001


def test_hidden_state_and_tanh_input() -> None:
    rng = np.random.default_rng(5)
    o = rng.integers(1, 65536, 300)
    t = rng.integers(-32767, 32768, 300)
    got = hidden_state(o, t, CFG)
    for k in range(300):
        real = Fraction(int(o[k]) * int(t[k]), 1 << 31)
        assert int(got[k]) == max(-32768, min(32767, _round_half_up(real * (1 << 15))))
    c = np.array([0, 31, 32, -33, 1 << 24 - 1, -(1 << 24)])
    expect = [max(-32768, min(32767, _round_half_up(Fraction(int(v), 32)))) for v in c]
    assert tanh_input(c, CFG).tolist() == expect


def test_cell_update_composes_the_units() -> None:
    rng = np.random.default_rng(6)
    h = CFG.hidden
    act = np.concatenate([rng.integers(1, 65536, (2, 2 * h)), rng.integers(-32767, 32768, (2, h)),
                          rng.integers(1, 65536, (2, h))], axis=1)
    c_prev = rng.integers(-(1 << 20), 1 << 20, (2, h))
    c, t, hn = cell_update(act, c_prev, CFG)
    assert np.array_equal(c, cell_state(act[:, :h], act[:, h:2 * h], act[:, 2 * h:3 * h],
                                        c_prev, CFG))
    assert np.array_equal(t, tanh_unit(tanh_input(c, CFG), CFG))
    assert np.array_equal(hn, hidden_state(act[:, 3 * h:], t, CFG))


# ------------------------------------------------------------------ update
def test_update_state_against_python_ints() -> None:
    h = 16
    cfg = DetectorConfig(hidden=h)
    rng = np.random.default_rng(9)
    acc = rng.integers(-(1 << 26), 1 << 26, (2, 4 * h))
    acc[0, :6] = [-(1 << 31), (1 << 31) - 1, 256, -256, (32767 << 9) + 255, -(32768 << 9) - 1]
    c_prev = rng.integers(-(8 << 16), 8 << 16, (2, h))
    for first in (False, True):
        u = update_state(acc, c_prev, cfg, first_step=first)
        for b in range(2):
            z = [max(-32768, min(32767, (int(a) + 256) >> 9)) for a in acc[b]]
            assert u.z[b].tolist() == z
            for j in range(h):
                i, f, o = (int(sigmoid_unit(z[k * h + j], cfg)) for k in (0, 1, 3))
                g = int(tanh_unit(z[2 * h + j], cfg))
                cp = 0 if first else int(c_prev[b, j])
                real = Fraction(f * cp, 1 << 32) + Fraction(i * g, 1 << 31)
                c = max(-(1 << 24), min((1 << 24) - 1, _round_half_up(real * (1 << 16))))
                t = int(tanh_unit(max(-32768, min(32767, _round_half_up(Fraction(c, 32)))), cfg))
                assert (int(u.c[b, j]), int(u.tanh_c[b, j])) == (c, t), (first, b, j)
                assert int(u.h[b, j]) == _round_half_up(Fraction(o * t, 1 << 16)), (first, b, j)
    with pytest.raises(ValueError, match="4H"):
        update_state(acc[:, :-1], c_prev, cfg)


@pytest.mark.parametrize("lanes", [4, 8, 16])
def test_pass_rows_are_the_memory_layout(lanes: int) -> None:
    rows = pass_rows(lanes, CFG)
    assert rows.shape == (CFG.gates // lanes, lanes)
    for gate in range(4):
        for unit in range(CFG.hidden):
            lane, k = locate(gate, unit, -1, lanes, CFG)  # bias RAM address = pass
            assert rows[k, lane] == gate * CFG.hidden + unit
    x = np.random.default_rng(10).integers(-(1 << 31), 1 << 31, (3, CFG.gates))
    assert np.array_equal(to_passes(x, lanes, CFG)[1, 2], x[1, rows[2]])
    assert np.array_equal(from_passes(to_passes(x, lanes, CFG), CFG), x)


def test_lstm_step_is_pe_array_then_update() -> None:
    w = DetectorWeights.random(11, hidden=16)
    rng = np.random.default_rng(11)
    x = codes_to_x(rng.integers(0, 256, 32), w.config)
    h, c = rng.integers(-32768, 32768, 16), rng.integers(-(1 << 18), 1 << 18, 16)
    st = lstm_step(x, h, c, w)
    u = update_state(gate_acc(x, h, w), c, w.config)
    for name in ("z", "act", "c", "tanh_c", "h"):
        assert np.array_equal(getattr(st, name), getattr(u, name)), name


# ------------------------------------------------------------------ head
def test_head_against_python_ints() -> None:
    w = DetectorWeights.random(7, hidden=16)
    h = np.random.default_rng(7).integers(-32768, 32768, size=(5, 16))
    z = head_logit(h, w)
    s = head_score(h, w)
    for k in range(5):
        acc = int(w.b_out_q) * 512 + sum(int(w.w_out_q[j]) * int(h[k, j]) for j in range(16))
        assert int(z[k]) == max(-32768, min(32767, (acc + 256) >> 9))
        assert int(s[k]) == int(sigmoid_unit(int(z[k]), w.config))


def test_threshold_and_flag() -> None:
    assert threshold_to_int(0.0, CFG) == 0
    assert threshold_to_int(0.5, CFG) == 32768
    assert threshold_to_int(1.0, CFG) == 65536
    assert threshold_to_int(0.3, CFG) == round(0.3 * 65536)
    for bad in (-0.01, 1.01, float("nan")):
        with pytest.raises(ValueError, match="threshold"):
            threshold_to_int(bad, CFG)
    assert flag_compare([32767, 32768, 32769], 32768, CFG).tolist() == [False, True, True]
    assert not flag_compare(65535, 65536, CFG)  # threshold 1.0 never fires
    assert flag_compare(1, 0, CFG)  # threshold 0.0 always fires
    with pytest.raises(ValueError, match="threshold_int"):
        flag_compare(1, 1 << 17, CFG)


# ------------------------------------------------------------------ step vs whole clip
@pytest.mark.parametrize("hidden", [16, 32])
def test_run_fixed_trace_equals_unit_steps(hidden: int) -> None:
    w = DetectorWeights.random(8, hidden=hidden)
    rng = np.random.default_rng(8)
    codes = rng.integers(0, 256, size=(3 * 12 + 5, 32), dtype=np.uint8)
    run = run_fixed(codes, w, window=12, trace=True)
    assert run.h.shape == (3, 12, hidden) and run.z.shape == (3, 12, 4 * hidden)
    for j in range(3):
        h = np.zeros(hidden, dtype=np.int64)
        c = np.zeros(hidden, dtype=np.int64)
        for t in range(12):
            st = lstm_step(codes_to_x(codes[12 * j + t], w.config), h, c, w)
            assert np.array_equal(st.z, run.z[j, t])
            assert np.array_equal(st.act, run.act[j, t])
            assert np.array_equal(st.c, run.c[j, t])
            assert np.array_equal(st.h, run.h[j, t])
            h, c = st.h, st.c
        assert int(head_score(h, w)) == int(run.score_int[j])


# ------------------------------------------------------------------ stage table
ROOT = Path(__file__).resolve().parents[2]
_PORT = re.compile(r"\b(input|output)\s+logic\s+(?:signed\s+)?(?:\[([^\]]+):0\]\s+)?(\w+)")


def _rtl_ports(block: str, env: dict[str, int]) -> dict[str, int]:
    """{port: width} of rtl/lstm/<block>.sv, widths evaluated with the package and H/P."""
    text = (ROOT / "rtl" / "lstm" / f"{block}.sv").read_text()
    return {m[3]: (eval(m[2], {"__builtins__": {}}, env) + 1 if m[2] else 1)  # noqa: S307
            for m in _PORT.finditer(text)}


@pytest.mark.parametrize("hidden,lanes", [(16, 4), (32, 8), (64, 16), (16, 16)])
def test_stage_table_widths_are_the_rtl_port_widths(hidden: int, lanes: int) -> None:
    d = dims(hidden, lanes)
    env = {k: v for k, (v, _) in package_params(CFG).items()}
    env.update(Hidden=hidden, Lanes=lanes, NPass=d.passes, WAddrW=d.w_addr_bits,
               PassW=d.pass_bits, TagW=d.pass_bits)
    n = 0
    for st in stages(hidden, lanes):
        ports = _rtl_ports(st.block, env)
        for side in (st.inputs, st.outputs):
            for link in side.values():
                for f in link.fields:
                    name = st.port_name(f)
                    assert name in ports, f"{st.block} has no port {name}"
                    assert ports[name] == f.width, (st.block, name, ports[name], f.width)
                    assert st.field(name).bits == f.bits
                    n += 1
    assert n > 50


def test_stage_table_follows_the_finding_rule() -> None:
    table = stages(32, 8)
    assert [s.block for s in table] == ["lstm_seq", "lstm_mem", "lstm_pe_array", "lstm_act",
                                        "lstm_cell", "lstm_update", "lstm_head", "lstm_detector"]
    assert {p.stem for p in (ROOT / "rtl" / "lstm").glob("lstm_*.sv")} == {s.block for s in table}
    top = (ROOT / "rtl" / "lstm" / "lstm_detector.sv").read_text()
    for st in table:
        assert (ROOT / "tb" / "lstm" / f"test_{st.block}.py").is_file(), st.block
        if st.model is None:
            assert st.note, f"{st.block}: a control block says what it does"
            assert not (ROOT / "refmodel" / "lstm" / f"{st.name}.py").exists()
        else:
            assert st.model.__module__ == f"refmodel.lstm.{st.name}", st.block
        for path in (st.inst, *st.other_insts):
            if not path:
                continue
            parent, _, inst = path.rpartition(".")
            text = top if not parent else (ROOT / "rtl" / "lstm" / (
                next(s.block for s in table if s.inst == parent) + ".sv")).read_text()
            assert re.search(rf"\b{st.block}\b(\s*#\([^;]*?\))?\s+{inst}\s*\(", text), path


def test_stage_table_link_words() -> None:
    st = stage("lstm_update", 16, 4)
    h, c = st.field("h_o"), st.field("c_o")
    assert (h.count, h.bits, c.count, c.bits) == (16, CFG.h_bits, 16, CFG.c_bits)
    vals = [-(1 << 24), (1 << 24) - 1] + [0] * 14
    word = c.encode(vals)
    assert word == ((1 << 24) | (((1 << 24) - 1) << 25))  # value k at bits [25k+24 : 25k]
    assert c.decode(word) == tuple(vals)
    assert stage("lstm_pe_array", 16, 4).field("res_tag_o").bits == 4  # 4H/P = 16 passes
    assert stage("lstm_pe_array", 16, 16).field("res_tag_o").bits == 2
    assert stage("lstm_seq", 64, 4).field("w_raddr_o").bits == 13  # 64 * 96 words
    assert stages(16, 4) is stages(16, 4, DetectorConfig(hidden=32))  # cached, H replaced
    for s in stages(16, 4):
        assert not set(s.inputs) & set(s.outputs), f"{s.block}: an interface name twice"
    pe = stage("lstm_pe_array", 16, 4)
    item = (9, -(1 << 31), (1 << 31) - 1, -1, 5)
    words = pe.encode("res", item)
    assert words == {"res_tag_o": 9, "res_o": (1 << 31) | ((1 << 31) - 1) << 32
                     | ((1 << 32) - 1) << 64 | 5 << 96}
    assert pe.decode("res", words) == item
    assert pe.signals("mac") == ("mac_first_i", "mac_last_i", "mac_tag_i", "w_i", "b_i", "v_i")
    with pytest.raises(KeyError, match="lstm_update"):
        st.field("h_i")
    with pytest.raises(ValueError, match="multiple of 4"):
        stages(16, 2)
