// Purpose: the detector's parameter memories (per-lane gate weight and bias RAMs, head weights
// and bias) and the weight load port that writes them.
//
// Load port: a write (wl_valid_i high for one cycle) at a flat word address, independent of
//   Lanes (docs/fixed_point_detector.md section 12, refmodel.lstm.rtl.load_writes):
//     [0, NW)           W[gate*H+unit, col] at col*4H + 4*unit + gate  (NW = 4H*(32+H)), data[7:0]
//     [NW, NW+4H)       gate bias of row 4*unit+gate at NW + 4*unit + gate, data[15:0]
//     [NW+4H, NW+5H)    w_out[unit], data[7:0]
//     NW+5H             b_out, data[15:0]
//   The write takes effect at the clock edge where wl_valid_i is high, unless wl_lock_i is
//   high (a window is running) or the address is NW+5H+1 or more: then nothing changes and
//   wl_err_o pulses high for one cycle, the cycle after the refused write.
// Read ports: w_rdata_o / b_rdata_o (all lanes at one address) are registered: they show the
//   words at w_raddr_i / b_raddr_i one cycle after a cycle with rd_en_i.  wout_o and bout_o
//   are registers, read directly.
// RAM contents have no reset (weights are loaded after reset; clear_i keeps them).
module lstm_mem
  import lstm_pkg::*;
#(
  parameter int Hidden = 32,  // H
  parameter int Lanes  = 8,   // P, divides 4H
  // derived from H and P (localparams: not overridable)
  localparam int NPass  = n_pass(Hidden, Lanes),             // passes per step, bias RAM depth
  localparam int WDepth = w_depth(Hidden, Lanes),            // per-lane weight RAM depth
  localparam int WAddrW = prim_util_pkg::idx_width(WDepth),  // weight RAM address width
  localparam int PassW  = prim_util_pkg::idx_width(NPass)    // bias RAM address width
) (
  input  logic                      clk_i,       // clock
  input  logic                      rst_ni,      // asynchronous reset, active low
  input  logic                      wl_valid_i,  // load-port write
  input  logic [WlAddrBits-1:0]     wl_addr_i,   // flat word address (map above)
  input  logic [WlDataBits-1:0]     wl_data_i,   // word; int8 targets use bits [7:0]
  input  logic                      wl_lock_i,   // a window is running: refuse writes
  output logic                      wl_err_o,    // pulse: the previous cycle's write was refused
  input  logic                      rd_en_i,     // read the lane RAMs this cycle
  input  logic [WAddrW-1:0]         w_raddr_i,   // weight RAM address, pass*(32+H) + col
  input  logic [PassW-1:0]          b_raddr_i,   // bias RAM address, pass
  output logic [Lanes*WBits-1:0]    w_rdata_o,   // lane p's weight at [8p+7:8p], int8
  output logic [Lanes*BBits-1:0]    b_rdata_o,   // lane p's bias at [16p+15:16p], int16
  output logic [Hidden*WoutBits-1:0] wout_o,     // w_out[unit] at [8u+7:8u], int8
  output logic [BoutBits-1:0]       bout_o       // b_out, int16
);
  localparam int Gates     = 4 * Hidden;
  localparam int Cols      = Inputs + Hidden;
  // Gates and Lanes are powers of two: the address decode divides by shifting.
  localparam int GatesLog2 = $clog2(Gates);
  localparam int LanesLog2 = $clog2(Lanes);
  localparam int NW        = Gates * Cols;
  localparam int BBase     = NW;
  localparam int WoutBase  = BBase + Gates;
  localparam int BoutAddr  = WoutBase + Hidden;
  localparam int LaneW     = prim_util_pkg::idx_width(Lanes);
  localparam int UnitW     = prim_util_pkg::idx_width(Hidden);

  logic                  in_w, in_b, in_wout, in_bout, ok;
  logic [GatesLog2-1:0]  r_hw;        // hardware row 4*unit + gate
  logic [LaneW-1:0]      lane;
  logic [WAddrW-1:0]     w_waddr;
  logic [PassW-1:0]      b_waddr;
  logic [UnitW-1:0]      unit;
  logic                  wl_err_q, wl_err_d;

  always_comb begin
    in_w    = 32'(wl_addr_i) < NW;
    in_b    = 32'(wl_addr_i) >= BBase && 32'(wl_addr_i) < WoutBase;
    in_wout = 32'(wl_addr_i) >= WoutBase && 32'(wl_addr_i) < BoutAddr;
    in_bout = 32'(wl_addr_i) == BoutAddr;
    ok      = wl_valid_i && !wl_lock_i;
    // Weights: row in the low address bits, column above; biases: row = addr - BBase.
    r_hw    = in_w ? wl_addr_i[GatesLog2-1:0] : GatesLog2'(32'(wl_addr_i) - BBase);
    lane    = LaneW'(r_hw & GatesLog2'(Lanes - 1));
    b_waddr = PassW'(r_hw >> LanesLog2);
    w_waddr = WAddrW'(32'(b_waddr) * Cols + 32'(wl_addr_i >> GatesLog2));
    unit    = UnitW'(32'(wl_addr_i) - WoutBase);
    wl_err_d = wl_valid_i && (wl_lock_i || !(in_w || in_b || in_wout || in_bout));
  end

  // Storage: per lane, one weight RAM and one bias RAM, each its own array so that each is
  // inferred as a single-port RAM (load-port write, registered read), one SRAM macro per lane
  // and kind; the head weights one register per unit (wout_o shows all of them at once).
  logic [WoutBits-1:0] wout_q [Hidden];

  for (genvar p = 0; p < Lanes; p++) begin : gen_lane
    logic [WBits-1:0] wram_q [WDepth];  // no reset: loaded after reset
    logic [BBits-1:0] bram_q [NPass];   // no reset: loaded after reset
    logic             we;               // this lane is the load port's target
    logic [WBits-1:0] w_rdata_q;
    logic [BBits-1:0] b_rdata_q;

    assign we = ok && (lane == LaneW'(p));

    // One write process for both of the lane's RAMs (written only while weights load).
    always_ff @(posedge clk_i) begin
      if (we && in_w) wram_q[w_waddr] <= wl_data_i[WBits-1:0];
      if (we && in_b) bram_q[b_waddr] <= wl_data_i[BBits-1:0];
    end
    always_ff @(posedge clk_i) begin
      if (rd_en_i) begin
        w_rdata_q <= wram_q[w_raddr_i];
        b_rdata_q <= bram_q[b_raddr_i];
      end
    end
    assign w_rdata_o[p*WBits +: WBits] = w_rdata_q;
    assign b_rdata_o[p*BBits +: BBits] = b_rdata_q;
  end

  always_ff @(posedge clk_i) begin
    if (ok && in_wout) wout_q[unit] <= wl_data_i[WoutBits-1:0];
  end

  for (genvar u = 0; u < Hidden; u++) begin : gen_wout
    assign wout_o[u*WoutBits +: WoutBits] = wout_q[u];
  end

  logic [BoutBits-1:0] bout_q;
  always_ff @(posedge clk_i) begin
    if (ok && in_bout) bout_q <= wl_data_i[BoutBits-1:0];
  end
  assign bout_o = bout_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      wl_err_q <= 1'b0;
    end else begin
      wl_err_q <= wl_err_d;
    end
  end
  assign wl_err_o = wl_err_q;

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (Hidden != 16 && Hidden != 32 && Hidden != 64) begin
      $fatal(1, "lstm_mem: Hidden=%0d must be 16, 32 or 64", Hidden);
    end
    if ((Lanes != 4 && Lanes != 8 && Lanes != 16) || (Gates % Lanes) != 0) begin
      $fatal(1, "lstm_mem: Lanes=%0d must be 4, 8 or 16 and divide 4*Hidden=%0d", Lanes, Gates);
    end
    if (BoutAddr >= (1 << WlAddrBits)) begin
      $fatal(1, "lstm_mem: %0d load addresses do not fit WlAddrBits=%0d", BoutAddr + 1,
             WlAddrBits);
    end
  end
  always @(posedge clk_i or negedge rst_ni) begin
    if (rst_ni === 1'b1 && (^wl_valid_i) === 1'bx) begin
      $fatal(1, "lstm_mem: X on wl_valid_i");
    end
    if (rst_ni === 1'b1 && wl_valid_i === 1'b1 && (^{wl_addr_i, wl_data_i, wl_lock_i}) === 1'bx) begin
      $fatal(1, "lstm_mem: X on the load port during a write (addr=%h data=%h)", wl_addr_i,
             wl_data_i);
    end
  end
`endif
endmodule
