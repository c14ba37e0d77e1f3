# Every RTL source in compile order (packages first). Used by the runner and make lint.
# Paths are relative to rtl/.
# ---- shared primitives
prim_stream_check.sv
prim_fifo.sv
fx_round_sat.sv
# ---- mel front end (generated package and ROMs first)
# ---- lstm detector (generated package and ROMs first)
# ---- top
gen/melstm_reg_pkg.sv
melstm_regs.sv
