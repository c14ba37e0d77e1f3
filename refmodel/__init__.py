"""Reference models of the audio detector chip: pure numpy, no simulator needed.

``refmodel.fixed``         the rounding/saturation primitive (twin of ``prim_round_sat``)
``refmodel.mel.config``        ``FrontendConfig``: every number of the front end
``refmodel.mel.frontend``      float golden, bit-accurate ``features``, streaming ``FrontendStream``
``refmodel.mel.window`` ``fe_fft`` ``fe_mel`` ``fe_log``   the front end's stages, one per RTL block
``refmodel.mel.tables``     the front end's ROM contents
``refmodel.mel.onnx_golden`` the ONNX golden of the front end (onnxruntime)
``refmodel.audio``         WAV reader (any format, resampled to 16 kHz mono) and seeded generators
``refmodel.lstm.detector``      LSTM detector: ``DetectorWeights``, float/fixed scores, ``detect``
``refmodel.lstm.config`` ``DetectorConfig``: every number of the detector
``refmodel.lstm.pe_array`` ``lstm_act`` ``lstm_cell`` ``lstm_head``   the detector's units
``refmodel.lstm.onnx_golden`` the ONNX golden of the detector (ONNX ``LSTM`` operator)
``refmodel.lstm.mem``  weight memory images for a P-lane PE array
``refmodel.chip.regs``        the chip's register map
``refmodel.rtlgen``        SystemVerilog packages and ROMs generated from the configs
``refmodel.bench``         speed figures (``python -m refmodel.bench``)
"""
