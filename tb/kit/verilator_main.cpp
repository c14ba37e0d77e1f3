// The simulation loop of the project's cocotb + Verilator builds that take their clock from C++
// (run_block(cxx_clock=...), tb/kit/runner.py): it replaces cocotb's own Verilator main.
//
// Why: a harness that makes its clock in HDL needs Verilator's --timing scheduler, and a clock
// made by cocotb (its GPI clock) costs a VPI put and a pass of the main loop per edge; both
// were measured (docs/speed.md).  Here the clock is a top-level input toggled by this loop,
// with its half period read from another top-level input (in ns), so the model is built
// without --timing and an edge costs one evaluation.
//
// Build defines (set by the runner):
//   MELSTM_CLOCK        the top-level clock input (e.g. clk_i)
//   MELSTM_CLOCK_HALF   the top-level input holding the half period in ns; 0 stops the clock
// The clock starts low; once the half period is non-zero, the clock toggles every half
// period, the first rising edge one half period after the write; a new half period applies
// from the next edge on (the semantics of the HDL clock of tb/chip/chip_tb.sv under Icarus).
//
// Time steps follow the order the VPI standard gives and cocotb relies on: timed callbacks at
// the start of a step (after this loop's clock edge, so a write made there lands after the
// edge's flops have sampled), then evaluation with value-change callbacks until nothing
// changes, ReadWrite, evaluation again if that wrote, then ReadOnly.
//
// Fast path: while Python waits only on timers and value changes (no ReadWrite, ReadOnly or
// next-time callback is registered) and no waveform is traced, an edge before the next timer
// costs one evaluation and a comparison of the watched signals (VerilatedVpi::callValueCbs),
// not a pass through every phase of the time step: the design runs near the speed of a plain
// C++ harness while Python sleeps until a block of audio is played or a monitor's signal moves.
//
// The command line options are cocotb's: --trace, --trace-file F, --trace-flush,
// --coverage-per-instance.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "Vtop.h"
#include "verilated.h"
#include "verilated_vpi.h"

#if VM_TRACE
#if VM_TRACE_FST
#include <verilated_fst_c.h>
using TraceFile = VerilatedFstC;
static const char* const kDefaultTrace = "dump.fst";
#else
#include <verilated_vcd_c.h>
using TraceFile = VerilatedVcdC;
static const char* const kDefaultTrace = "dump.vcd";
#endif
#endif

#ifndef MELSTM_CLOCK
#error "MELSTM_CLOCK (the top-level clock input) is not defined: see tb/kit/runner.py"
#endif
#ifndef MELSTM_CLOCK_HALF
#error "MELSTM_CLOCK_HALF (the top-level half-period input) is not defined"
#endif

extern "C" void vlog_startup_routines_bootstrap(void);

namespace {

constexpr uint64_t kNever = ~0ULL;

uint64_t g_time = 0;  // simulation time in the model's precision
bool g_cov_per_instance = false;
#if VM_TRACE
TraceFile* g_trace = nullptr;
bool g_trace_flush = false;
#endif

// Value-change callbacks may write signals, which may change others: call until quiet.
void settle_values() {
    while (VerilatedVpi::callValueCbs()) {
    }
}

void wrap_up() {
    VerilatedVpi::callCbs(cbEndOfSimulation);
#if VM_TRACE
    if (g_trace) g_trace->close();
#endif
#if VM_COVERAGE
    if (g_cov_per_instance) Verilated::threadContextp()->coveragep()->forcePerInstance(true);
    VerilatedCov::write();
#endif
}

// The rest of a time step whose first evaluation and value-change callbacks are done: evaluate
// again while callbacks wrote signals, ReadWrite (and again), then ReadOnly.
void finish_step(Vtop* top) {
    for (;;) {
        while (VerilatedVpi::evalNeeded()) {
            top->eval_step();
            VerilatedVpi::clearEvalNeeded();
            VerilatedVpi::doInertialPuts();
            settle_values();
        }
        VerilatedVpi::callCbs(cbReadWriteSynch);
        VerilatedVpi::doInertialPuts();
        settle_values();
        if (!VerilatedVpi::evalNeeded()) break;
    }
    top->eval_end_step();
    VerilatedVpi::callCbs(cbReadOnlySynch);
#if VM_TRACE
    if (g_trace) {
        g_trace->dump(g_time);
        if (g_trace_flush) g_trace->flush();
    }
#endif
}

// One time step after its timed callbacks.
void run_step(Vtop* top) {
    top->eval_step();
    VerilatedVpi::clearEvalNeeded();
    VerilatedVpi::doInertialPuts();
    settle_values();
    finish_step(top);
}

// Python waits on nothing but timers and value changes: no ReadWrite, ReadOnly or next-time
// callback is registered.
bool only_timers_and_value_changes() {
    return !VerilatedVpi::hasCbs(cbReadWriteSynch) && !VerilatedVpi::hasCbs(cbReadOnlySynch)
           && !VerilatedVpi::hasCbs(cbNextSimTime);
}

int parse_args(int argc, char** argv, std::string& trace_file, bool& trace_on) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--trace") {
#if VM_TRACE
            trace_on = true;
#else
            std::fprintf(stderr, "error: --trace needs a build with waveform support (WAVES=1)\n");
            return 1;
#endif
        } else if (arg == "--trace-flush") {
#if VM_TRACE
            g_trace_flush = true;
#endif
        } else if (arg == "--trace-file") {
            if (++i >= argc) {
                std::fprintf(stderr, "error: --trace-file needs a file name\n");
                return 1;
            }
            trace_file = argv[i];
        } else if (arg == "--coverage-per-instance") {
#if VM_COVERAGE
            g_cov_per_instance = true;
#else
            std::fprintf(stderr, "error: --coverage-per-instance needs a coverage build (COV=1)\n");
            return 1;
#endif
        }
    }
    return 0;
}

}  // namespace

double sc_time_stamp() { return static_cast<double>(g_time); }

int main(int argc, char** argv) {
    std::string trace_file;
    bool trace_on = false;
    if (parse_args(argc, argv, trace_file, trace_on)) return 1;

    Verilated::commandArgs(argc, argv);
    VerilatedContext* const ctx = Verilated::threadContextp();
    const std::unique_ptr<Vtop> top(new Vtop(""));
    Verilated::fatalOnVpiError(false);  // cocotb reports VPI errors itself

#if VM_TRACE
    Verilated::traceEverOn(true);
    if (trace_on) {
        g_trace = new TraceFile;
        top->trace(g_trace, 99);
        g_trace->open(trace_file.empty() ? kDefaultTrace : trace_file.c_str());
    }
#endif

    // ticks of the model's time precision per ns (precision -12: 1 ps, 1000 per ns)
    uint64_t ticks_per_ns = 1;
    for (int p = ctx->timeprecision(); p < -9; ++p) ticks_per_ns *= 10;

    vlog_startup_routines_bootstrap();
    Verilated::addExitCb([](void*) { wrap_up(); }, nullptr);
    VerilatedVpi::callCbs(cbStartOfSimulation);
    settle_values();

    top->MELSTM_CLOCK = 0;
    uint64_t next_edge = kNever;  // time of the clock's next toggle
    auto half = [&]() { return static_cast<uint64_t>(top->MELSTM_CLOCK_HALF) * ticks_per_ns; };

    run_step(top.get());  // time 0
    while (!ctx->gotFinish()) {
        if (next_edge == kNever && half() != 0) next_edge = g_time + half();

        // Fast path: clock edges before the next timer, each one evaluation and a look at
        // the watched signals; a value change that wakes Python completes its step as usual.
        bool woke = false;
        if (next_edge != kNever && only_timers_and_value_changes()
#if VM_TRACE
            && !g_trace
#endif
        ) {
            const uint64_t deadline = VerilatedVpi::cbNextDeadline();
            while (next_edge < deadline && !ctx->gotFinish()) {
                g_time = next_edge;
                ctx->time(g_time);
                top->MELSTM_CLOCK = !top->MELSTM_CLOCK;
                next_edge = half() ? g_time + half() : kNever;
                top->eval_step();
                if (VerilatedVpi::callValueCbs()) {
                    settle_values();
                    VerilatedVpi::doInertialPuts();
                    settle_values();
                    finish_step(top.get());
                    woke = true;
                    break;
                }
                top->eval_end_step();
            }
        }
        if (woke || ctx->gotFinish()) continue;

        const uint64_t next_cb = VerilatedVpi::cbNextDeadline();
        const uint64_t next_model = top->eventsPending() ? top->nextTimeSlot() : kNever;
        const uint64_t next = std::min(std::min(next_cb, next_model), next_edge);
        if (next == kNever) break;  // nothing left to happen
        g_time = next;
        ctx->time(g_time);

        VerilatedVpi::callCbs(cbNextSimTime);
        settle_values();
        if (g_time == next_edge) {
            top->MELSTM_CLOCK = !top->MELSTM_CLOCK;
            next_edge = half() ? g_time + half() : kNever;
        }
        VerilatedVpi::callTimedCbs();
        settle_values();
        run_step(top.get());
    }

    top->final();
    wrap_up();
#if VM_TRACE
    delete g_trace;
    g_trace = nullptr;
#endif
    return ctx->errorCount() > 0 ? 1 : 0;
}
