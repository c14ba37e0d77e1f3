"""Reference models of the audio detector chip: pure numpy, no simulator needed.

One folder per IP of the chip, one module per RTL block (the finding rule: module
``<ip>_<block>`` is modelled by ``refmodel/<ip>/<block>.py``; ``docs/stages.md`` lists them):

``refmodel.mel``      the front end: ``config`` (every number), one module per block (``framer``,
                      ``window``, ``fft``, ``split``, ``power``, ``filterbank``, ``log2``,
                      ``quant``), ``stages`` (the stage table), ``frontend`` (``features``,
                      ``FrontendStream``), ``golden`` / ``onnx_golden`` (float goldens),
                      ``tables`` and ``rtl`` (ROM contents, generated SystemVerilog)
``refmodel.lstm``     the detector: ``config``, ``weights``, the blocks (``pe_array``, ``act``,
                      ``cell``, ``update``, ``head``, ``mem``), ``stages``, ``detector``
                      (float and fixed scores, ``detect``), ``onnx_golden``, ``rtl``
``refmodel.chip``     the chip: ``regs`` (register map and its model), ``top`` (the chip model)

Shared: ``fixed`` (rounding and saturation, twin of ``prim_round_sat``), ``link`` (how link
values are laid out in port words), ``blocks`` (every block: the finding rule as data),
``audio`` (WAV reader and seeded generators), ``cli`` (``python -m refmodel``), ``rtlgen``
(``make gen``), ``bench`` (speed figures).
"""
