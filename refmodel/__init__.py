"""Reference models of the audio detector chip: pure numpy, no simulator needed.

``refmodel.fixed``         the rounding/saturation primitive (twin of ``rtl/fx_round_sat.sv``)
``refmodel.config``        ``FrontendConfig``: every number of the front end
``refmodel.frontend``      float golden, bit-accurate ``features``, streaming ``FrontendStream``
``refmodel.fe_window`` ``fe_fft`` ``fe_mel`` ``fe_log``   the front end's stages, one per RTL block
``refmodel.fe_tables``     the front end's ROM contents
``refmodel.onnx_frontend`` the ONNX golden of the front end (onnxruntime)
``refmodel.audio``         WAV reader (any format, resampled to 16 kHz mono) and seeded generators
``refmodel.detector``      LSTM detector: ``DetectorWeights``, float/fixed scores, ``detect``
``refmodel.detector_config`` ``DetectorConfig``: every number of the detector
``refmodel.lstm_pe_array`` ``lstm_act`` ``lstm_cell`` ``lstm_head``   the detector's units
``refmodel.onnx_detector`` the ONNX golden of the detector (ONNX ``LSTM`` operator)
``refmodel.detector_mem``  weight memory images for a P-lane PE array
``refmodel.regmap``        the chip's register map
``refmodel.rtlgen``        SystemVerilog packages and ROMs generated from the configs
``refmodel.bench``         speed figures (``python -m refmodel.bench``)
"""
