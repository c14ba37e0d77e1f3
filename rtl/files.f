# Every RTL source in compile order (packages first). Used by the runner and make lint.
# Paths are relative to rtl/.
# ---- shared primitives (package first)
prim/prim_util_pkg.sv
prim/prim_stream_check.sv
prim/prim_fifo.sv
prim/prim_round_sat.sv
# ---- mel front end (generated package and ROMs first)
mel/gen/mel_pkg.sv
mel/gen/mel_window_even_rom.sv
mel/gen/mel_window_odd_rom.sv
mel/gen/mel_twiddle_re_rom.sv
mel/gen/mel_twiddle_im_rom.sv
mel/gen/mel_seg_rom.sv
mel/gen/mel_w_rise_rom.sv
mel/gen/mel_w_fall_rom.sv
mel/gen/mel_log2_rom.sv
mel/mel_framer.sv
mel/mel_window.sv
mel/mel_fft.sv
mel/mel_split.sv
mel/mel_power.sv
mel/mel_filterbank.sv
mel/mel_log2.sv
mel/mel_quant.sv
mel/mel_frontend.sv
# ---- lstm detector (generated package and ROMs first)
lstm/gen/lstm_pkg.sv
lstm/gen/lstm_act_rom.sv
lstm/lstm_act.sv
lstm/lstm_cell.sv
lstm/lstm_pe_array.sv
lstm/lstm_mem.sv
lstm/lstm_update.sv
lstm/lstm_head.sv
lstm/lstm_seq.sv
lstm/lstm_detector.sv
# ---- top
chip/gen/chip_reg_pkg.sv
chip/chip_regs.sv
chip/chip_top.sv
