// Purpose: the detector head: score = sigmoid(w_out . h + b_out), flag = score >= threshold,
// bit-exact with refmodel.lstm.head, presented as one detection on a valid/ready stream.
//
// Operation: start_i (taken when ready_o) latches the window index and threshold_i and starts
//   the sum at b_out << BoutShift; one term w_out[j]*h[j] per cycle for j = 0..H-1 (h_i and
//   wout_i must hold meanwhile: busy_o); then logit = round_sat(acc, HeadZShift, ZBits),
//   score = sigmoid(logit) (own lstm_act), flag = {0,score} >= threshold (unsigned, UQ1.16).
// Latency: det_valid_o rises Hidden+1 cycles after start; the detection holds until
//   det_ready_i.  ready_o is low while busy or while a detection waits.
// Throughput: Hidden + 3 cycles per detection (start to start, det_ready_i high): the H terms,
//   the score cycle, the cycle the detection is offered.
module lstm_head
  import lstm_pkg::*;
#(
  parameter int Hidden = 32  // H
) (
  input  logic                         clk_i,         // clock
  input  logic                         rst_ni,        // asynchronous reset, active low
  input  logic                         clear_i,       // synchronous soft reset (drops det)
  input  logic                         start_i,       // compute a detection (when ready_o)
  output logic                         ready_o,       // free to start
  output logic                         busy_o,        // reading h_i / wout_i
  input  logic [31:0]                  window_i,      // window index, latched at start
  input  logic [ThresholdBits-1:0]     threshold_i,   // UQ1.16, latched at start
  input  logic [Hidden*HBits-1:0]      h_i,           // final hidden state, Q0.15
  input  logic [Hidden*WoutBits-1:0]   wout_i,        // head weights, int8
  input  logic [BoutBits-1:0]          bout_i,        // head bias, int16
  output logic                         det_valid_o,   // detection stream
  input  logic                         det_ready_i,
  output logic [31:0]                  det_window_o,  // window index
  output logic [ScoreBits-1:0]         det_score_o,   // score, UQ0.16
  output logic                         det_flag_o     // score >= threshold
);
  localparam int UnitW = prim_util_pkg::idx_width(Hidden);
  localparam int ProdW = WoutBits + HBits;

  logic                        run_q, run_d, fin_q, fin_d, out_q, out_d;
  logic [UnitW-1:0]            j_q, j_d;
  // Datapath registers (no reset: written at start before use, guarded by run/out flags).
  logic signed [AccBits-1:0]   acc_q, acc_d;
  logic [31:0]                 win_q, win_d, owin_q, owin_d;
  logic [ThresholdBits-1:0]    thr_q, thr_d;
  logic [ScoreBits-1:0]        score_q, score_d;
  logic                        flag_q, flag_d;

  logic                        start;
  logic signed [WoutBits-1:0]  w;
  logic signed [HBits-1:0]     h;
  logic signed [ProdW-1:0]     prod;
  logic signed [ZBits-1:0]     logit;
  logic [ActOutBits-1:0]       score;
  logic                        unused_sat;

  assign ready_o = !run_q && !fin_q && !out_q;
  assign busy_o  = run_q;
  assign start   = start_i && ready_o;
  assign w       = $signed(wout_i[32'(j_q)*WoutBits +: WoutBits]);
  assign h       = $signed(h_i[32'(j_q)*HBits +: HBits]);
  assign prod    = ProdW'(w) * ProdW'(h);

  prim_round_sat #(.InW(AccBits), .OutW(ZBits), .Shift(HeadZShift)) u_round_logit (
    .in_i (acc_q),
    .out_o(logit),
    .sat_o(unused_sat)
  );

  lstm_act u_act (
    .z_i   (logit),
    .tanh_i(1'b0),
    .act_o (score)
  );

  always_comb begin
    run_d   = run_q;
    fin_d   = 1'b0;
    out_d   = out_q && !det_ready_i;
    j_d     = j_q;
    acc_d   = acc_q;
    win_d   = win_q;
    owin_d  = owin_q;
    thr_d   = thr_q;
    score_d = score_q;
    flag_d  = flag_q;
    if (start) begin
      run_d = 1'b1;
      j_d   = '0;
      acc_d = AccBits'($signed(bout_i)) <<< BoutShift;
      win_d = window_i;
      thr_d = threshold_i;
    end else if (run_q) begin
      acc_d = acc_q + AccBits'(prod);
      j_d   = j_q + UnitW'(1);
      if (32'(j_q) == Hidden - 1) begin
        run_d = 1'b0;
        fin_d = 1'b1;
      end
    end
    if (fin_q) begin
      out_d   = 1'b1;
      owin_d  = win_q;
      score_d = ScoreBits'(score);
      flag_d  = ThresholdBits'(score) >= thr_q;
    end
    if (clear_i) begin
      run_d = 1'b0;
      fin_d = 1'b0;
      out_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q <= 1'b0;
      fin_q <= 1'b0;
      out_q <= 1'b0;
      j_q   <= '0;
    end else begin
      run_q <= run_d;
      fin_q <= fin_d;
      out_q <= out_d;
      j_q   <= j_d;
    end
  end

  always_ff @(posedge clk_i) begin
    acc_q   <= acc_d;
    win_q   <= win_d;
    owin_q  <= owin_d;
    thr_q   <= thr_d;
    score_q <= score_d;
    flag_q  <= flag_d;
  end

  assign det_valid_o  = out_q;
  assign det_window_o = owin_q;
  assign det_score_o  = score_q;
  assign det_flag_o   = flag_q;

`ifndef SYNTHESIS
  always @(posedge clk_i or negedge rst_ni) begin
    if (rst_ni === 1'b1 && start === 1'b1 && (^threshold_i) === 1'bx) begin
      $fatal(1, "lstm_head: X on threshold_i at the start of window %0d", window_i);
    end
  end
`endif
endmodule
