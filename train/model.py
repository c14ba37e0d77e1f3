"""The chip's detector as a differentiable JAX function, for quantization-aware training.

It mirrors ``refmodel.lstm.detector.scores_float`` (the float golden on the dequantised
weights) exactly in structure:

    x      = (q - 128) / 128                      the 8-bit feature codes, Q0.7
    z      = W_ih x + W_hh h + b                  gate rows stacked i, f, g, o
    c      = sigmoid(z_f) c + sigmoid(z_i) tanh(z_g)
    h      = sigmoid(z_o) tanh(c)                 h, c = 0 at every window start
    logit  = w_out . h_T + b_out                  after the last of the window's frames
    score  = sigmoid(logit)

Quantization-aware: the forward pass sees every parameter on the chip's integer grid
(``value = int / 2**frac``, int clipped to its ``bits``-bit range, fractions and widths from
:class:`refmodel.lstm.config.DetectorConfig`), with straight-through rounding: the gradient
passes to float "shadow" parameters as if rounding were the identity, and the optimiser keeps
the shadows inside the representable range (:func:`clip_to_range`).  :func:`to_weights`
rounds the shadows exactly as the forward pass does, so the exported
:class:`~refmodel.lstm.weights.DetectorWeights` are the network that was evaluated.

:func:`chip_logits` also follows the chip's arithmetic inside the recurrence (the bit-accurate
model ``refmodel.lstm``): every pre-activation rounded and saturated to its Q4.11 word, sigmoid
and tanh from the activation unit's table with its linear interpolation
(``refmodel.lstm.act.act_positive``), the cell state rounded to Q8.16, its tanh input to Q4.11,
h to Q0.15 and the head logit to Q4.11, each with a straight-through gradient (the forward
value is the chip's, the gradient that of the exact function).  In float32 it reproduces the
bit-accurate scores up to an occasional last-bit difference of a product (the chip's sums are
exact integers); :func:`logits` is the float golden's arithmetic (``scores_float``).

Parameters are a dict of float32 arrays with the names of the weight file: ``w_ih`` (4H, 32),
``w_hh`` (4H, H), ``b`` (4H,), ``w_out`` (H,), ``b_out`` ().
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from refmodel.lstm.config import DetectorConfig
from refmodel.lstm.weights import DetectorWeights

Params = dict[str, jax.Array]

# parameter name -> (DetectorConfig fraction field, width field, stored dtype)
GRIDS: dict[str, tuple[str, str, type[np.integer]]] = {
    "w_ih": ("w_frac", "w_bits", np.int8),
    "w_hh": ("w_frac", "w_bits", np.int8),
    "b": ("b_frac", "b_bits", np.int16),
    "w_out": ("wout_frac", "wout_bits", np.int8),
    "b_out": ("bout_frac", "bout_bits", np.int16),
}


def grid(cfg: DetectorConfig, name: str) -> tuple[int, int, int]:
    """(frac, int_min, int_max) of parameter ``name``: value = int / 2**frac."""
    frac_field, bits_field, _ = GRIDS[name]
    frac, bits = getattr(cfg, frac_field), getattr(cfg, bits_field)
    return frac, -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def init_params(key: jax.Array, cfg: DetectorConfig) -> Params:
    """Seeded initial shadow parameters (float32).

    W_ih, W_hh ~ U(-1/sqrt(H), 1/sqrt(H)) (the usual LSTM init; at H = 32 that is about +-6
    weight steps of 1/32), gate biases 0 except the forget gate at +1, head
    ~ U(-1/sqrt(H), 1/sqrt(H)), head bias 0.
    """
    hid, n = cfg.hidden, cfg.inputs
    k_ih, k_hh, k_out = jax.random.split(key, 3)
    lim = 1.0 / np.sqrt(hid)
    b = np.zeros(4 * hid, np.float32)
    b[hid:2 * hid] = 1.0
    return {
        "w_ih": jax.random.uniform(k_ih, (4 * hid, n), jnp.float32, -lim, lim),
        "w_hh": jax.random.uniform(k_hh, (4 * hid, hid), jnp.float32, -lim, lim),
        "b": jnp.asarray(b),
        "w_out": jax.random.uniform(k_out, (hid,), jnp.float32, -lim, lim),
        "b_out": jnp.zeros((), jnp.float32),
    }


def _round_to_grid(p: jax.Array, frac: int, lo: int, hi: int) -> jax.Array:
    """The chip's value of p: clip(round(p * 2**frac), lo, hi) / 2**frac (round half to even,
    like ``np.rint`` in :func:`to_weights`)."""
    scale = float(2 ** frac)
    return jnp.clip(jnp.round(p * scale), lo, hi) / scale


def quantize(params: Params, cfg: DetectorConfig) -> Params:
    """Fake-quantised parameters with straight-through gradients (identity backward)."""
    out = {}
    for name, p in params.items():
        q = _round_to_grid(p, *grid(cfg, name))
        out[name] = p + jax.lax.stop_gradient(q - p)
    return out


def clip_to_range(params: Params, cfg: DetectorConfig) -> Params:
    """Shadow parameters clipped to the representable range (applied after every update, so
    a shadow never drifts where straight-through gradients no longer move its integer)."""
    out = {}
    for name, p in params.items():
        frac, lo, hi = grid(cfg, name)
        out[name] = jnp.clip(p, lo / 2.0 ** frac, hi / 2.0 ** frac)
    return out


def codes_to_x(codes: jax.Array | npt.NDArray[np.uint8], cfg: DetectorConfig) -> jax.Array:
    """(q - 128) / 128 as float32: the exact value of the chip's Q0.7 input."""
    off = float(cfg.code_offset)
    return (jnp.asarray(codes, jnp.float32) - off) / off


def logits(params: Params, x: jax.Array, every_frame: bool = False,
           noise: jax.Array | None = None) -> jax.Array:
    """Window logits of the float LSTM (no quantisation applied here).

    Args:
        params: float parameters (already on the grid, or not).
        x: float32 (B, T, inputs) inputs in [-1, 1), one window per row.
        every_frame: also return the head's logit after every frame (for training's
            auxiliary loss; the chip reads only the last).
        noise: float32 (T, B, 4H) added to the gate pre-activations z at every frame
            (training only: a recurrence that must tolerate it keeps the chip's small
            arithmetic errors from growing over the window).

    Returns:
        float32 (B,) logits ``w_out . h_T + b_out``, or (B, T) ``w_out . h_t + b_out``
        with ``every_frame``.
    """
    hid = params["w_hh"].shape[1]
    pre = jnp.einsum("btj,kj->tbk", x, params["w_ih"]) + params["b"]  # (T, B, 4H)
    if noise is not None:
        pre = pre + noise
    w_hh_t = params["w_hh"].T

    def step(carry: tuple[jax.Array, jax.Array], pre_t: jax.Array):
        h, c = carry
        z = pre_t + h @ w_hh_t
        i = jax.nn.sigmoid(z[:, :hid])
        f = jax.nn.sigmoid(z[:, hid:2 * hid])
        g = jnp.tanh(z[:, 2 * hid:3 * hid])
        o = jax.nn.sigmoid(z[:, 3 * hid:])
        c = f * c + i * g
        h = o * jnp.tanh(c)
        return (h, c), (h if every_frame else None)

    zeros = jnp.zeros((x.shape[0], hid), x.dtype)
    (h, _), hs = jax.lax.scan(step, (zeros, zeros), pre)
    if every_frame:
        return (hs @ params["w_out"] + params["b_out"]).T
    return h @ params["w_out"] + params["b_out"]


def qat_logits(params: Params, x: jax.Array, cfg: DetectorConfig,
               every_frame: bool = False, noise: jax.Array | None = None) -> jax.Array:
    """Logits of the float golden on the chip's weights: :func:`logits` on :func:`quantize` d
    params."""
    return logits(quantize(params, cfg), x, every_frame, noise)


def _ste(exact: jax.Array, chip: jax.Array) -> jax.Array:
    """``chip`` in the forward pass, the gradient of ``exact`` in the backward pass."""
    return exact + jax.lax.stop_gradient(chip - exact)


def _round_sat(v: jax.Array, frac: int, bits: int) -> jax.Array:
    """``refmodel.fixed.round_sat`` on a real value: round half up to the grid 2**-frac, then
    saturate to a signed ``bits``-bit word; straight-through inside the range."""
    scale = float(2 ** frac)
    lo, hi = -(1 << (bits - 1)) / scale, ((1 << (bits - 1)) - 1) / scale
    v = jnp.clip(v, lo, hi)
    return _ste(v, jnp.floor(v * scale + 0.5) / scale)


def _sigmoid_code(u: jax.Array, dense: jax.Array, cfg: DetectorConfig) -> jax.Array:
    """``refmodel.lstm.act.act_lookup`` in float32: the sigmoid code (UQ0.act_out_bits, as a
    float holding an integer) of integer-valued arguments ``u`` (act_frac fraction bits).

    ``dense`` is the unit's output for every magnitude 0..act_sat (``act_positive``, the table
    with its interpolation, evaluated once by the bit-accurate model), so this is one gather."""
    a = jnp.minimum(jnp.abs(u), cfg.act_sat).astype(jnp.int32)
    s_pos = dense[a]
    return jnp.where(u < 0, cfg.sig_one - s_pos, s_pos)


def chip_logits(params: Params, x: jax.Array, cfg: DetectorConfig,
                every_frame: bool = False) -> jax.Array:
    """Window logits as the chip computes them (see the module docstring), on :func:`quantize`
    d parameters.

    Args:
        params: shadow parameters (rounded to the weight grid here).
        x: float32 (B, T, inputs) inputs ``(q - 128) / 128``.
        cfg: the detector configuration (every word format and the activation table).
        every_frame: the head's logit after every frame, (B, T), as in :func:`logits`.

    Returns:
        float32 (B,) head logits on the Q4.11 grid (the chip's ``z`` of the head).
    """
    from refmodel.lstm.act import act_positive

    p = quantize(params, cfg)
    hid = cfg.hidden
    table = jnp.asarray(act_positive(np.arange(cfg.act_sat + 1), cfg), jnp.float32)
    a_one = float(1 << cfg.act_frac)

    def sig(z: jax.Array) -> jax.Array:
        return _ste(jax.nn.sigmoid(z), _sigmoid_code(z * a_one, table, cfg) / cfg.sig_one)

    def tanh(z: jax.Array) -> jax.Array:
        code = _sigmoid_code(2.0 * z * a_one, table, cfg) - (cfg.sig_one >> 1)
        return _ste(jnp.tanh(z), code / float(1 << cfg.tanh_frac))

    pre = jnp.einsum("btj,kj->tbk", x, p["w_ih"]) + p["b"]  # (T, B, 4H), exact in float32
    w_hh_t = p["w_hh"].T

    def step(carry: tuple[jax.Array, jax.Array], pre_t: jax.Array):
        h, c = carry
        z = _round_sat(pre_t + h @ w_hh_t, cfg.act_frac, cfg.z_bits)
        i, f, o = sig(z[:, :hid]), sig(z[:, hid:2 * hid]), sig(z[:, 3 * hid:])
        g = tanh(z[:, 2 * hid:3 * hid])
        c = _round_sat(f * c + i * g, cfg.c_frac, cfg.c_bits)
        t = tanh(_round_sat(c, cfg.act_frac, cfg.z_bits))
        h = _round_sat(o * t, cfg.vec_frac, cfg.h_bits)
        return (h, c), (h if every_frame else None)

    zeros = jnp.zeros((x.shape[0], hid), x.dtype)
    (h, _), hs = jax.lax.scan(step, (zeros, zeros), pre)
    if every_frame:
        return _round_sat(hs @ p["w_out"] + p["b_out"], cfg.act_frac, cfg.z_bits).T
    return _round_sat(h @ p["w_out"] + p["b_out"], cfg.act_frac, cfg.z_bits)


def to_weights(params: Params, cfg: DetectorConfig, note: str = "") -> DetectorWeights:
    """The chip's integer weights of the shadow parameters (same rounding as the forward)."""
    arrays = {}
    for name, (_, _, dtype) in GRIDS.items():
        frac, lo, hi = grid(cfg, name)
        p = np.asarray(params[name], np.float64)
        arrays[name] = np.clip(np.rint(p * 2.0 ** frac), lo, hi).astype(dtype)
    return DetectorWeights(config=cfg, w_ih_q=arrays["w_ih"], w_hh_q=arrays["w_hh"],
                           b_q=arrays["b"], w_out_q=arrays["w_out"],
                           b_out_q=np.asarray(arrays["b_out"]), note=note)


def from_weights(weights: DetectorWeights) -> Params:
    """Float32 parameters holding a weight set's exact dequantised values."""
    return {name: jnp.asarray(np.asarray(getattr(weights, name)), jnp.float32)
            for name in GRIDS}


def saturation(params: Params, cfg: DetectorConfig) -> dict[str, dict[str, float]]:
    """How well the shadow parameters fit the chip's grid, per tensor.

    Returns ``{name: {"clipped": fraction at the integer range's ends, "zero": fraction that
    round to 0, "max_abs": max |value|, "limit": largest representable |value|}}``.
    """
    out = {}
    for name, p in params.items():
        frac, lo, hi = grid(cfg, name)
        ints = np.clip(np.rint(np.asarray(p, np.float64) * 2.0 ** frac), lo, hi)
        out[name] = {
            "clipped": float(np.mean((ints <= lo) | (ints >= hi))),
            "zero": float(np.mean(ints == 0)),
            "max_abs": float(np.max(np.abs(np.asarray(p)))),
            "limit": float(-lo / 2.0 ** frac),
        }
    return out
