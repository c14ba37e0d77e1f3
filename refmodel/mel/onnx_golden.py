"""ONNX golden of the float front end, built with ``onnx.helper`` and run in onnxruntime.

Graph (the form of the background material; float32, since onnxruntime's CPU ``Conv`` has
no float64 kernel)::

    samples int16 (N,) -> Cast -> Mul 1/32768 -> Unsqueeze (1, 1, N) -> Pad 112 zeros at the end
      -> Conv(W_re (257, 1, 512), stride 160)  -> Pow 2 --+
      -> Conv(W_im (257, 1, 512), stride 160)  -> Pow 2 --+-> Add (1, 257, T)
      -> Transpose (1, T, 257) -> MatMul mel (257, 32) -> Clip(min 1e-10) -> Log
      -> Mul 10/ln(10) = dB (T, 32) -> quantise -> codes uint8 (T, 32)

The kernels are the 512-point DFT rows with the 400-tap symmetric Hamming window embedded and
taps 400..511 zero.  ``Conv`` with a 512-tap kernel needs 512 samples per output, the front
end only 400, so 112 zeros are padded at the end: the frame count is then exactly
``floor((N - 400) / 160) + 1`` and the padded zeros only meet zero taps.

Two quantisation modes:

``"fixed"`` (the chip): ``code = clip(round((dB + 35) * 255 / 80), 0, 255)``.
``"top_db"`` (the background material's per-clip normalisation): ``floor = ReduceMax(dB) - 80``
    over the whole clip, ``dB' = Max(dB, floor)``, ``code = clip(round((dB' - floor) * 255 /
    80), 0, 255)``.  The chip cannot use it: a streaming front end emits each frame 10 ms after
    it ends and cannot know the maximum of frames that have not arrived yet.

ONNX ``Round`` and ``numpy.round`` both round half to even.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from refmodel.mel.config import FrontendConfig, resolve
from refmodel.mel.framer import as_samples
from refmodel.mel.golden import hamming_window, logmel_db, mel_matrix

MODES = ("fixed", "top_db")
OPSET = 17
TOP_DB = 80.0


def dft_kernels(cfg: FrontendConfig | None = None) -> tuple[npt.NDArray, npt.NDArray]:
    """Windowed DFT kernels, float64 ``(n_bins, 1, n_fft)`` each: real and imaginary parts."""
    cfg = resolve(cfg)
    n = np.arange(cfg.n_fft)
    k = np.arange(cfg.n_bins)[:, None]
    w = np.zeros(cfg.n_fft)
    w[: cfg.frame_len] = hamming_window(cfg)
    ang = 2.0 * np.pi * k * n / cfg.n_fft
    return (w * np.cos(ang))[:, None, :], (-w * np.sin(ang))[:, None, :]


def build_model(cfg: FrontendConfig | None = None, *, mode: str = "fixed") -> onnx.ModelProto:
    """The front-end graph; input ``samples`` int16 ``(N,)``, outputs ``db`` float32
    ``(T, 32)`` and ``codes`` uint8 ``(T, 32)``.  ``mode`` is ``"fixed"`` or ``"top_db"``."""
    cfg = resolve(cfg)
    if mode not in MODES:
        raise ValueError(f"mode={mode!r} not in {MODES}")
    f32 = np.float32
    k_re, k_im = dft_kernels(cfg)
    inits = [
        numpy_helper.from_array(k_re.astype(f32), "dft_re"),
        numpy_helper.from_array(k_im.astype(f32), "dft_im"),
        numpy_helper.from_array(mel_matrix(cfg).T.astype(f32), "mel"),
        numpy_helper.from_array(np.array(1.0 / (1 << (cfg.sample_bits - 1)), f32), "in_scale"),
        numpy_helper.from_array(np.array([0, 1], np.int64), "axes01"),
        numpy_helper.from_array(np.array([0], np.int64), "axes0"),
        numpy_helper.from_array(np.array([0, 0, 0, 0, 0, cfg.n_fft - cfg.frame_len], np.int64),
                                "pads"),
        numpy_helper.from_array(np.array(2.0, f32), "two"),
        numpy_helper.from_array(np.array(cfg.power_floor, f32), "power_floor"),
        numpy_helper.from_array(np.array(10.0 / math.log(10.0), f32), "db_per_neper"),
        numpy_helper.from_array(np.array(cfg.codes_per_db, f32), "codes_per_db"),
        numpy_helper.from_array(np.array(0.0, f32), "code_lo"),
        numpy_helper.from_array(np.array(float(cfg.code_max), f32), "code_hi"),
    ]
    nodes = [
        helper.make_node("Cast", ["samples"], ["x_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["x_f", "in_scale"], ["x_s"]),
        helper.make_node("Unsqueeze", ["x_s", "axes01"], ["x_3d"]),
        helper.make_node("Pad", ["x_3d", "pads"], ["x_pad"], mode="constant"),
        helper.make_node("Conv", ["x_pad", "dft_re"], ["re"], strides=[cfg.hop]),
        helper.make_node("Conv", ["x_pad", "dft_im"], ["im"], strides=[cfg.hop]),
        helper.make_node("Pow", ["re", "two"], ["re2"]),
        helper.make_node("Pow", ["im", "two"], ["im2"]),
        helper.make_node("Add", ["re2", "im2"], ["power"]),
        helper.make_node("Transpose", ["power"], ["power_t"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["power_t", "mel"], ["mel_p"]),
        helper.make_node("Clip", ["mel_p", "power_floor"], ["mel_c"]),
        helper.make_node("Log", ["mel_c"], ["ln"]),
        helper.make_node("Mul", ["ln", "db_per_neper"], ["db_3d"]),
        helper.make_node("Squeeze", ["db_3d", "axes0"], ["db"]),
    ]
    if mode == "fixed":
        inits.append(numpy_helper.from_array(np.array(cfg.db_floor, f32), "db_floor"))
        nodes.append(helper.make_node("Sub", ["db", "db_floor"], ["db_rel"]))
    else:
        inits.append(numpy_helper.from_array(np.array(TOP_DB, f32), "top_db"))
        nodes += [
            helper.make_node("ReduceMax", ["db"], ["db_max"], keepdims=0),
            helper.make_node("Sub", ["db_max", "top_db"], ["db_floor_clip"]),
            helper.make_node("Max", ["db", "db_floor_clip"], ["db_top"]),
            helper.make_node("Sub", ["db_top", "db_floor_clip"], ["db_rel"]),
        ]
    nodes += [
        helper.make_node("Mul", ["db_rel", "codes_per_db"], ["code_f"]),
        helper.make_node("Round", ["code_f"], ["code_r"]),
        helper.make_node("Clip", ["code_r", "code_lo", "code_hi"], ["code_c"]),
        helper.make_node("Cast", ["code_c"], ["codes"], to=TensorProto.UINT8),
    ]
    graph = helper.make_graph(
        nodes, f"mel_frontend_{mode}",
        [helper.make_tensor_value_info("samples", TensorProto.INT16, ["N"])],
        [helper.make_tensor_value_info("db", TensorProto.FLOAT, ["T", cfg.n_mels]),
         helper.make_tensor_value_info("codes", TensorProto.UINT8, ["T", cfg.n_mels])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=10, producer_name="refmodel.mel.onnx_golden")
    onnx.checker.check_model(model)
    return model


class OnnxFrontend:
    """An onnxruntime session of :func:`build_model`; ``run(samples) -> (db, codes)``."""

    def __init__(self, cfg: FrontendConfig | None = None, *, mode: str = "fixed") -> None:
        import onnxruntime as ort  # imported here: only the ONNX golden needs it

        self.cfg = resolve(cfg)
        self.mode = mode
        self.model = build_model(self.cfg, mode=mode)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self._session = ort.InferenceSession(self.model.SerializeToString(), opts,
                                             providers=["CPUExecutionProvider"])

    def run(self, samples: npt.ArrayLike) -> tuple[npt.NDArray[np.float32],
                                                   npt.NDArray[np.uint8]]:
        """int16 ``(N,)`` with ``N >= 400`` -> dB float32 ``(T, 32)``, codes uint8 ``(T, 32)``."""
        x = as_samples(samples)
        if len(x) < self.cfg.frame_len:
            raise ValueError(f"samples: need at least {self.cfg.frame_len} samples, got {len(x)}")
        db, codes = self._session.run(["db", "codes"], {"samples": x})
        return db, codes


def top_db_codes(samples: npt.ArrayLike, cfg: FrontendConfig | None = None
                 ) -> npt.NDArray[np.uint8]:
    """Float64 numpy reference of the ``"top_db"`` mode, uint8 ``(n_frames, 32)``."""
    cfg = resolve(cfg)
    db = logmel_db(samples, cfg)
    floor = db.max() - TOP_DB
    v = np.round((np.maximum(db, floor) - floor) * cfg.codes_per_db)
    return np.clip(v, 0, cfg.code_max).astype(np.uint8)


def save_model(path: str, cfg: FrontendConfig | None = None, *, mode: str = "fixed") -> None:
    """Write the graph to an ``.onnx`` file."""
    onnx.save(build_model(cfg, mode=mode), path)
