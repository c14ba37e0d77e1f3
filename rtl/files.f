# Every RTL source in compile order (packages first). Used by the runner and make lint.
# Paths are relative to rtl/.
# ---- shared primitives
prim_stream_check.sv
prim_fifo.sv
fx_round_sat.sv
# ---- mel front end (generated package and ROMs first)
gen/mel_pkg.sv
gen/mel_window_even_rom.sv
gen/mel_window_odd_rom.sv
gen/mel_twiddle_re_rom.sv
gen/mel_twiddle_im_rom.sv
gen/mel_seg_rom.sv
gen/mel_w_rise_rom.sv
gen/mel_w_fall_rom.sv
gen/mel_log2_rom.sv
mel_framer.sv
mel_window.sv
mel_fft.sv
mel_split.sv
mel_power.sv
mel_filterbank.sv
mel_log2.sv
mel_quant.sv
mel_frontend.sv
# ---- lstm detector (generated package and ROMs first)
gen/lstm_pkg.sv
gen/lstm_act_rom.sv
lstm_act.sv
lstm_cell.sv
lstm_pe_array.sv
lstm_mem.sv
lstm_update.sv
lstm_head.sv
lstm_seq.sv
lstm_detector.sv
# ---- top
gen/melstm_reg_pkg.sv
melstm_regs.sv
melstm_top.sv
