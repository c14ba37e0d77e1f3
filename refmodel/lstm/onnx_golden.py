"""The float detector as an ONNX graph (ONNX ``LSTM`` operator), run in onnxruntime.

Graph (windows are the batch dimension)::

    codes uint8 (W, T, 32) -> Cast float -> Sub 128 -> Div 128 -> Transpose (T, W, 32)
      -> LSTM (hidden H, gate order i, o, f, c) -> Y (T, 1, W, H)
      -> Gather last step (axis 0) -> Reshape (W, H) -> MatMul w_out (H, 1) -> Add b_out
      -> Sigmoid -> Reshape (W,) = score

Our weights stack the gate rows i, f, g, o; ONNX's ``LSTM`` stacks them i, o, f, c (c is our
g).  :func:`to_onnx_gate_order` does that permutation explicitly.  The bias goes into ``Wb``
and ``Rb`` is zero (only their sum matters).  The graph computes in float32 or float64
(``dtype``); onnxruntime's CPU ``LSTM`` kernel supports float32 only, so float32 is the
default.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from refmodel.lstm.weights import DetectorWeights

OPSET = 17
IR_VERSION = 10  # onnx 1.23 writes IR 14 by default; onnxruntime 1.31 reads up to 13
ONNX_GATE_ORDER = ("i", "o", "f", "c")  # ONNX LSTM: input, output, forget, cell
_OUR_TO_ONNX = (0, 3, 1, 2)  # ONNX block k takes our gate block _OUR_TO_ONNX[k] (i, o, f, g)


def to_onnx_gate_order(m: npt.NDArray, hidden: int,
                       order: tuple[int, int, int, int] = _OUR_TO_ONNX) -> npt.NDArray:
    """Reorder the 4H gate rows of ``m`` (axis 0) from our i, f, g, o to ONNX's i, o, f, c.

    Args:
        m: array (4H, ...) with row blocks i, f, g, o.
        hidden: H.
        order: which of our blocks goes to each ONNX block (for tests of a wrong order).

    Returns:
        a new array of the same shape, row blocks i, o, f, g(=c).
    """
    if m.shape[0] != 4 * hidden:
        raise ValueError(f"expected {4 * hidden} gate rows, got {m.shape[0]}")
    blocks = [m[k * hidden:(k + 1) * hidden] for k in range(4)]
    return np.concatenate([blocks[k] for k in order], axis=0)


def build_model(weights: DetectorWeights, window: int | None = None,
                dtype: type[np.floating] = np.float32,
                gate_order: tuple[int, int, int, int] = _OUR_TO_ONNX) -> onnx.ModelProto:
    """The float detector as an ONNX model with input ``codes`` uint8 (W, window, 32).

    Args:
        weights: the detector weights (their exact dequantised float values are embedded).
        window: frames per window (default ``weights.config.window``).
        dtype: ``np.float32`` (runs in onnxruntime) or ``np.float64``.
        gate_order: permutation from our gate blocks to ONNX's; keep the default (tests pass
            a wrong one to show that the conversion matters).

    Returns:
        a checked ``onnx.ModelProto`` with output ``score`` (W,).
    """
    cfg = weights.config
    window = cfg.window if window is None else int(window)
    if window < 1:
        raise ValueError(f"window={window} must be >= 1")
    hid = cfg.hidden
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def const(name: str, value: npt.ArrayLike, dt: type = dtype) -> onnx.TensorProto:
        return numpy_helper.from_array(np.asarray(value, dtype=dt), name=name)

    w = to_onnx_gate_order(weights.w_ih, hid, gate_order)[None]  # (1, 4H, 32)
    r = to_onnx_gate_order(weights.w_hh, hid, gate_order)[None]  # (1, 4H, H)
    b = np.concatenate([to_onnx_gate_order(weights.b, hid, gate_order),
                        np.zeros(4 * hid)])[None]  # (1, 8H): Wb then Rb
    inits = [
        const("offset", float(cfg.code_offset)),
        const("W", w),
        const("R", r),
        const("B", b),
        const("last", window - 1, np.int64),
        const("shape_wh", [-1, hid], np.int64),
        const("w_out", weights.w_out.reshape(hid, 1)),
        const("b_out", [weights.b_out]),
        const("shape_w", [-1], np.int64),
    ]
    nodes = [
        helper.make_node("Cast", ["codes"], ["q"], to=elem),
        helper.make_node("Sub", ["q", "offset"], ["x0"]),
        helper.make_node("Div", ["x0", "offset"], ["x_bt"]),
        helper.make_node("Transpose", ["x_bt"], ["x"], perm=[1, 0, 2]),
        helper.make_node("LSTM", ["x", "W", "R", "B"], ["Y", "Y_h"], hidden_size=hid,
                         direction="forward"),
        helper.make_node("Gather", ["Y", "last"], ["y_last"], axis=0),  # (1, W, H)
        helper.make_node("Reshape", ["y_last", "shape_wh"], ["h_final"]),
        helper.make_node("MatMul", ["h_final", "w_out"], ["dot"]),
        helper.make_node("Add", ["dot", "b_out"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["score2d"]),
        helper.make_node("Reshape", ["score2d", "shape_w"], ["score"]),
    ]
    graph = helper.make_graph(
        nodes,
        "melstm_detector",
        [helper.make_tensor_value_info("codes", TensorProto.UINT8, ["windows", window,
                                                                    cfg.inputs])],
        [helper.make_tensor_value_info("score", elem, ["windows"])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="refmodel.lstm.onnx_golden", ir_version=IR_VERSION)
    onnx.checker.check_model(model)
    return model


def run_model(model: onnx.ModelProto, codes: npt.NDArray[np.uint8],
              window: int) -> npt.NDArray[np.float64]:
    """Run a model from :func:`build_model` in onnxruntime on a clip.

    Args:
        model: the ONNX model.
        codes: uint8 (n, 32); trailing frames that do not fill a window are dropped.
        window: the window the model was built for.

    Returns:
        float64 (n // window,) scores.
    """
    import onnxruntime as ort

    if codes.dtype != np.uint8 or codes.ndim != 2:
        raise ValueError(f"codes must be uint8 (n, 32), got {codes.dtype} {codes.shape}")
    nw = codes.shape[0] // window
    if nw == 0:
        return np.zeros(0)
    batch = np.ascontiguousarray(codes[: nw * window].reshape(nw, window, codes.shape[1]))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), sess_options=opts,
                                providers=["CPUExecutionProvider"])
    (score,) = sess.run(["score"], {"codes": batch})
    return np.asarray(score, dtype=np.float64)


def scores_onnx(codes: npt.NDArray[np.uint8], weights: DetectorWeights,
                window: int | None = None) -> npt.NDArray[np.float64]:
    """Scores of the ONNX float golden (onnxruntime, float32): float64 (n // window,)."""
    window = weights.config.window if window is None else int(window)
    return run_model(build_model(weights, window), codes, window)
