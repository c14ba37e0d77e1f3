// Purpose: the detector's sequencer: accepts one feature vector per LSTM step, walks the PE
// array through the step's passes, and closes windows (state reset, head start, counters).
//
// Step:    a vector is accepted in StIdle (in_ready_o high); StRun then issues one weight
//   read and one vector word per cycle for (4H/P) passes of 32+H columns (col 0..31: the
//   input x_int << XShift, col 32..: h_prev, forced to 0 in the first step of a window);
//   the MAC controls and the word reach the PE array registered, aligned with the RAM data.
//   StDrain waits for the PE pipeline and the last pass's update, then swaps the h banks and
//   pulses step_done_o (h and c of the step are readable from that edge on).
// Window:  after the last of Window steps, StHead starts the head (when it is free) and
//   StHeadRun waits until it has read h and w_out; then the window index advances and the
//   next step is a first step.  window_active_o is high from the acceptance of a window's
//   first vector until then: weight writes are refused meanwhile.
// clear_i returns to window 0, frame 0, first step, idle (the weights are kept).
module lstm_seq
  import lstm_pkg::*;
#(
  parameter int Hidden = 32,   // H
  parameter int Lanes  = 8,    // P
  parameter int Window = 198,  // steps per window
  // derived from H and P (localparams: not overridable), as in lstm_mem
  localparam int NPass  = n_pass(Hidden, Lanes),                           // passes per step
  localparam int WAddrW = prim_util_pkg::idx_width(w_depth(Hidden, Lanes)),  // lane RAM address
  localparam int PassW  = prim_util_pkg::idx_width(NPass)                      // pass index width
) (
  input  logic                        clk_i,            // clock
  input  logic                        rst_ni,           // asynchronous reset, active low
  input  logic                        clear_i,          // synchronous soft reset
  input  logic                        in_valid_i,       // feature vector valid
  output logic                        in_ready_o,       // accepted when idle
  input  logic [Inputs*CodeBits-1:0]  in_feat_i,        // 32 uint8 codes, band b at [8b+7:8b]
  input  logic [Hidden*HBits-1:0]     h_i,              // h_prev (lstm_update.h_o)
  output logic                        rd_en_o,          // lane RAM read this cycle
  output logic [WAddrW-1:0]           w_raddr_o,        // pass*(32+H) + col
  output logic [PassW-1:0]            b_raddr_o,        // pass
  output logic                        mac_valid_o,      // PE array controls, aligned with
  output logic                        mac_first_o,      //   the RAM read data
  output logic                        mac_last_o,
  output logic [PassW-1:0]            mac_tag_o,
  output logic signed [HBits-1:0]     v_o,              // vector word, Q0.15
  input  logic                        upd_busy_i,       // lstm_update.busy_o
  output logic                        first_step_o,     // this step starts a window
  output logic                        swap_o,           // end of step: swap the h banks
  output logic                        step_done_o,      // pulse: a step completed
  output logic                        head_start_o,     // start the head (with head_ready_i)
  input  logic                        head_ready_i,     // head can start
  input  logic                        head_busy_i,      // head is reading h and w_out
  output logic [31:0]                 window_o,         // index of the current window
  output logic                        window_active_o   // a window is part-way
);
  localparam int Cols   = Inputs + Hidden;
  localparam int ColW   = prim_util_pkg::idx_width(Cols);
  localparam int FrameW = prim_util_pkg::idx_width(Window);

  typedef enum logic [2:0] {StIdle, StRun, StDrain, StHead, StHeadRun} state_e;

  state_e              state_q, state_d;
  logic [ColW-1:0]     col_q, col_d;
  logic [PassW-1:0]    pass_q, pass_d;
  logic [WAddrW-1:0]   waddr_q, waddr_d;
  logic [FrameW-1:0]   frame_q, frame_d;
  logic [31:0]         window_q, window_d;
  logic                first_q, first_d;
  logic                active_q, active_d;
  logic                done_q, done_d;
  logic                mvalid_q, mvalid_d, mfirst_q, mfirst_d, mlast_q, mlast_d;
  logic [PassW-1:0]    mtag_q, mtag_d;
  // Datapath registers without reset: the vector buffer and the issued word.
  logic [Inputs*CodeBits-1:0] feat_q;
  logic signed [HBits-1:0]    v_q, v_d;

  logic                issue, last_col, last_pass, accept, drained;
  logic [CodeBits-1:0] code;
  logic signed [CodeBits-1:0] x_int;

  assign accept    = in_valid_i && (state_q == StIdle);
  assign issue     = state_q == StRun;
  assign last_col  = 32'(col_q) == Cols - 1;
  assign last_pass = 32'(pass_q) == NPass - 1;
  assign drained   = !mvalid_q && !upd_busy_i;
  // x_int = q - 128: flipping the MSB of the uint8 code gives its two's complement.
  assign code      = feat_q[32'(col_q)*CodeBits +: CodeBits];
  assign x_int     = $signed(code ^ CodeBits'(CodeOffset));
  assign v_d       = (32'(col_q) < Inputs) ? HBits'(x_int) <<< XShift
                   : first_q ? '0 : $signed(h_i[(32'(col_q) - Inputs)*HBits +: HBits]);

  // The step's counters and the MAC controls move on every cycle of a step: they are kept out
  // of the state machine below, which then changes only at the ends of passes (an
  // event-driven simulator re-evaluates it only then).
  assign col_d    = accept ? '0 : !issue ? col_q : last_col ? '0 : col_q + ColW'(1);
  assign pass_d   = accept ? '0 : (issue && last_col) ? pass_q + PassW'(1) : pass_q;
  assign waddr_d  = accept ? '0 : issue ? waddr_q + WAddrW'(1) : waddr_q;
  assign mvalid_d = issue && !clear_i;
  assign mfirst_d = issue && col_q == '0;
  assign mlast_d  = issue && last_col;
  assign mtag_d   = pass_q;

  always_comb begin
    state_d  = state_q;
    frame_d  = frame_q;
    window_d = window_q;
    first_d  = first_q;
    active_d = active_q;
    done_d   = 1'b0;
    swap_o   = 1'b0;
    head_start_o = 1'b0;
    unique case (state_q)
      StIdle: begin
        if (accept) begin
          active_d = 1'b1;
          state_d  = StRun;
        end
      end
      StRun: begin
        if (last_col && last_pass) begin
          state_d = StDrain;
        end
      end
      StDrain: begin
        if (drained) begin
          swap_o = 1'b1;
          done_d = 1'b1;
          if (32'(frame_q) == Window - 1) begin
            frame_d = '0;
            state_d = StHead;
          end else begin
            frame_d = frame_q + FrameW'(1);
            first_d = 1'b0;
            state_d = StIdle;
          end
        end
      end
      StHead: begin
        head_start_o = head_ready_i;
        if (head_ready_i) begin
          state_d = StHeadRun;
        end
      end
      StHeadRun: begin
        if (!head_busy_i) begin
          window_d = window_q + 32'd1;
          first_d  = 1'b1;
          active_d = 1'b0;
          state_d  = StIdle;
        end
      end
      default: state_d = StIdle;
    endcase
    if (clear_i) begin
      state_d  = StIdle;
      frame_d  = '0;
      window_d = '0;
      first_d  = 1'b1;
      active_d = 1'b0;
      done_d   = 1'b0;
      swap_o   = 1'b0;
      head_start_o = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q  <= StIdle;
      col_q    <= '0;
      pass_q   <= '0;
      waddr_q  <= '0;
      frame_q  <= '0;
      window_q <= '0;
      first_q  <= 1'b1;
      active_q <= 1'b0;
      done_q   <= 1'b0;
      mvalid_q <= 1'b0;
      mfirst_q <= 1'b0;
      mlast_q  <= 1'b0;
      mtag_q   <= '0;
    end else begin
      state_q  <= state_d;
      col_q    <= col_d;
      pass_q   <= pass_d;
      waddr_q  <= waddr_d;
      frame_q  <= frame_d;
      window_q <= window_d;
      first_q  <= first_d;
      active_q <= active_d;
      done_q   <= done_d;
      mvalid_q <= mvalid_d;
      mfirst_q <= mfirst_d;
      mlast_q  <= mlast_d;
      mtag_q   <= mtag_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (accept) feat_q <= in_feat_i;
  end
  // The word reaches the PE array with mac_valid_o (the registered issue).
  always_ff @(posedge clk_i) begin
    if (issue) v_q <= v_d;
  end

  assign in_ready_o      = state_q == StIdle;
  assign rd_en_o         = issue;
  assign w_raddr_o       = waddr_q;
  assign b_raddr_o       = pass_q;
  assign mac_valid_o     = mvalid_q;
  assign mac_first_o     = mfirst_q;
  assign mac_last_o      = mlast_q;
  assign mac_tag_o       = mtag_q;
  assign v_o             = v_q;
  assign first_step_o    = first_q;
  assign step_done_o     = done_q;
  assign window_o        = window_q;
  assign window_active_o = active_q;

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (Window < 1) begin
      $fatal(1, "lstm_seq: Window=%0d must be >= 1", Window);
    end
  end
`endif
endmodule
