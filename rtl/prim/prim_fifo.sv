// Purpose: synchronous FIFO with valid/ready on both sides.
//
// Ports:    in_* accepts an item when in_valid_i && in_ready_o; out_* presents the oldest
//           item, removed when out_valid_o && out_ready_i.
// Latency:  one cycle from an accepted input to out_valid_o (no fall-through).
// Throughput: 1 cycle per item, in and out at the same time, also when full.
module prim_fifo #(
  parameter int Width = 8,  // item width
  parameter int Depth = 4,  // items held; at least 2
  // derived (localparam: not overridable)
  localparam int CntW = prim_util_pkg::cnt_width(Depth)  // width of count_o, 0..Depth
) (
  input  logic             clk_i,        // clock
  input  logic             rst_ni,       // asynchronous reset, active low
  input  logic             in_valid_i,   // input item valid
  output logic             in_ready_o,   // FIFO can accept
  input  logic [Width-1:0] in_data_i,    // input item
  output logic             out_valid_o,  // an item is available
  input  logic             out_ready_i,  // consumer accepts
  output logic [Width-1:0] out_data_o,   // oldest item
  output logic [CntW-1:0]  count_o       // items held
);
  localparam int PtrW = prim_util_pkg::idx_width(Depth);

  logic [Width-1:0] mem_q [Depth];  // storage: no reset needed, guarded by count_q
  logic [PtrW-1:0]  rd_q, rd_d, wr_q, wr_d;
  logic [CntW-1:0]  count_q, count_d;
  logic             push, pop;

  assign out_valid_o = count_q != '0;
  // Accept when not full, or when full and an item leaves in the same cycle.
  assign in_ready_o  = (count_q != CntW'(Depth)) || out_ready_i;
  assign push        = in_valid_i && in_ready_o;
  assign pop         = out_valid_o && out_ready_i;
  assign out_data_o  = mem_q[rd_q];
  assign count_o     = count_q;

  function automatic logic [PtrW-1:0] next_ptr(logic [PtrW-1:0] p);
    return (p == PtrW'(Depth - 1)) ? '0 : p + PtrW'(1);
  endfunction

  always_comb begin
    rd_d    = pop ? next_ptr(rd_q) : rd_q;
    wr_d    = push ? next_ptr(wr_q) : wr_q;
    count_d = count_q + CntW'(push) - CntW'(pop);
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_q    <= '0;
      wr_q    <= '0;
      count_q <= '0;
    end else begin
      rd_q    <= rd_d;
      wr_q    <= wr_d;
      count_q <= count_d;
    end
  end

  always_ff @(posedge clk_i) begin
    if (push) mem_q[wr_q] <= in_data_i;
  end

  prim_stream_check #(.Width(Width), .Name("prim_fifo.in")) u_check_in (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .valid_i(in_valid_i), .ready_i(in_ready_o), .data_i(in_data_i)
  );
  prim_stream_check #(.Width(Width), .Name("prim_fifo.out")) u_check_out (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .valid_i(out_valid_o), .ready_i(out_ready_i), .data_i(out_data_o)
  );

`ifndef SYNTHESIS
  initial begin : p_param_check
    if (Depth < 2 || Width < 1) $fatal(1, "prim_fifo: illegal Depth=%0d Width=%0d", Depth, Width);
  end
`endif
endmodule
