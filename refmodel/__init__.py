"""Reference models of the audio detector chip: pure numpy, no simulator needed.

``refmodel.fixed``    the shared rounding/saturation primitive (twin of ``rtl/fx_round_sat.sv``)
"""
