# Every RTL source in compile order (packages first). Used by the runner and make lint.
prim_stream_check.sv
prim_fifo.sv
fx_round_sat.sv
