"""The detector's load-port map: writes, address-ordered words and the inverse decode."""

from __future__ import annotations

import numpy as np
import pytest

from refmodel.lstm import rtl as lstm_rtl
from refmodel.lstm.detector import DetectorWeights


@pytest.mark.parametrize("hidden", [16, 32, 64])
def test_load_image_round_trip(hidden: int) -> None:
    w = DetectorWeights.random(11, hidden=hidden)
    words = lstm_rtl.load_words(w)
    assert len(words) == lstm_rtl.load_map(w.config).size == 4 * hidden * (32 + hidden) \
        + 5 * hidden + 1
    back = lstm_rtl.weights_from_load_image(dict(enumerate(words)), hidden=hidden)
    for name in ("w_ih_q", "w_hh_q", "b_q", "w_out_q", "b_out_q"):
        np.testing.assert_array_equal(getattr(back, name), getattr(w, name), err_msg=name)


def test_every_address_decodes_to_where_load_writes_put_it() -> None:
    w = DetectorWeights.random(2, hidden=16)
    seen = {}
    for addr, _ in lstm_rtl.load_writes(w):
        target = lstm_rtl.decode_load_addr(addr, 4, w.config)
        assert target[0] != "error" and target not in seen.values()
        seen[addr] = target
    size = lstm_rtl.load_map(w.config).size
    assert sorted(seen) == list(range(size))
    assert lstm_rtl.decode_load_addr(size, 4, w.config)[0] == "error"


def test_incomplete_image_is_refused() -> None:
    words = lstm_rtl.load_words(DetectorWeights.random(1, hidden=16))
    image = dict(enumerate(words))
    del image[7]
    with pytest.raises(ValueError, match="address 7"):
        lstm_rtl.weights_from_load_image(image, hidden=16)
