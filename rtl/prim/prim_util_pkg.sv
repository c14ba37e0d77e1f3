// Purpose: width helpers shared by every module, written once (PULP common_cells' cf_math_pkg,
// OpenTitan's prim_util_pkg).  Constant functions: call them in parameter and localparam
// expressions and port widths, qualified (`prim_util_pkg::idx_width(Depth)`).
package prim_util_pkg;

  // Bits needed to index n items (0..n-1); at least 1, so that a single item still has a port.
  function automatic int unsigned idx_width(int unsigned n);
    return (n > 1) ? $clog2(n) : 1;
  endfunction

  // Bits needed to hold every value 0..n (a count of up to n items); at least 1.
  function automatic int unsigned cnt_width(int unsigned n);
    return idx_width(n + 1);
  endfunction

endpackage : prim_util_pkg
