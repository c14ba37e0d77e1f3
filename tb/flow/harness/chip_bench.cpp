// Purpose: the plain C++ Verilator harness of `make bench`: chip_top alone, the clock toggled
// here, no VPI and no Python while it runs; every feature vector and detection compared
// bit for bit with the refmodel's expectations as it comes out.  The speed limit the cocotb
// environment is measured against (tb/flow/plain_bench.py builds and runs it; docs/speed.md).
//
// Usage:   chip_bench DIR CYCLES BLOCK_LEN
//          DIR holds the files tb/flow/plain_bench.py writes from the refmodel:
//            regs.bin       register writes before the audio, (u32 byte address, u32 data)
//            samples.bin    int16 samples, in the order the chip must accept them
//            features.bin   expected feature vectors, (u32 frame, 32 bytes of tap_feat_o
//                           least significant byte first)
//            detections.bin expected detections, (u32 window, u16 score, u8 flag, u8 pad)
//          CYCLES: clock cycles to run once the register writes are done (the full
//          environment's count, so both simulate the same time).  BLOCK_LEN: the audio
//          block player's block length; one idle cycle follows each block, as in
//          tb/chip/chip_tb.sv.  det_ready_i is held high (no backpressure).
// Output:  one JSON line on stdout: cycles, wall and CPU seconds of the audio phase, items
//          checked.  Exit 1 with one message (frame or window, band, cycle) on the first
//          mismatch, a refused register write, an item never seen, an extra item, or audio
//          left unsent after CYCLES.
// Timing:  period 10 time units (ns); inputs change after the rising edge's evaluation, the
//          outputs that decide a transfer are read after the falling edge's, so a transfer
//          seen there is the one the next rising edge makes.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "Vchip_top.h"
#include "verilated.h"

namespace {

constexpr int kFeatBytes = 32;  // tap_feat_o: 256 bits

struct Feature {
  uint32_t frame;
  uint8_t word[kFeatBytes];
};
struct Detection {
  uint32_t window;
  uint16_t score;
  uint8_t flag;
  uint8_t pad;
};
static_assert(sizeof(Feature) == 36 && sizeof(Detection) == 8, "record layout");

template <typename T>
std::vector<T> load(const std::string& path) {
  std::vector<T> out;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "plain harness: cannot open %s\n", path.c_str());
    std::exit(2);
  }
  std::fseek(f, 0, SEEK_END);
  long n = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  if (n % static_cast<long>(sizeof(T))) {
    std::fprintf(stderr, "plain harness: %s is %ld bytes, not a multiple of %zu\n",
                 path.c_str(), n, sizeof(T));
    std::exit(2);
  }
  out.resize(n / sizeof(T));
  if (n && std::fread(out.data(), sizeof(T), out.size(), f) != out.size()) {
    std::fprintf(stderr, "plain harness: short read on %s\n", path.c_str());
    std::exit(2);
  }
  std::fclose(f);
  return out;
}

[[noreturn]] void fail(const char* what, uint64_t cycle) {
  std::fprintf(stderr, "plain harness MISMATCH at cycle %llu (%llu ns): %s\n",
               static_cast<unsigned long long>(cycle),
               static_cast<unsigned long long>(cycle * 10), what);
  std::exit(1);
}

double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DIR CYCLES BLOCK_LEN\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t run_cycles = std::strtoull(argv[2], nullptr, 10);
  const uint64_t block_len = std::strtoull(argv[3], nullptr, 10);
  if (run_cycles == 0 || block_len == 0) {
    std::fprintf(stderr, "plain harness: CYCLES and BLOCK_LEN must be positive\n");
    return 2;
  }
  const auto regs = load<uint32_t>(dir + "/regs.bin");
  const auto samples = load<int16_t>(dir + "/samples.bin");
  const auto exp_feat = load<Feature>(dir + "/features.bin");
  const auto exp_det = load<Detection>(dir + "/detections.bin");
  if (regs.size() % 2) {
    std::fprintf(stderr, "plain harness: regs.bin holds an odd number of words\n");
    return 2;
  }

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  auto top = std::make_unique<Vchip_top>(ctx.get());
  uint64_t cycle = 0;
  char msg[512];

  // One clock cycle: rising edge (inputs set by the caller take effect), then falling edge.
  auto rise = [&] {
    top->clk_i = 1;
    top->eval();
    ctx->timeInc(5);
  };
  auto fall = [&] {
    top->clk_i = 0;
    top->eval();
    ctx->timeInc(5);
    ++cycle;
  };

  top->clk_i = 0;
  top->rst_ni = 0;
  top->audio_valid_i = 0;
  top->audio_sample_i = 0;
  top->det_ready_i = 1;
  top->reg_req_i = 0;
  top->reg_we_i = 0;
  top->reg_addr_i = 0;
  top->reg_wdata_i = 0;
  top->eval();
  for (int k = 0; k < 3; ++k) { rise(); fall(); }
  top->rst_ni = 1;
  rise();  // from here on, every step starts just after a rising edge

  // Register writes, one every 2 cycles (the harness's burst player's rate); each response
  // must come back accepted.
  for (size_t k = 0; k < regs.size(); k += 2) {
    top->reg_req_i = 1;
    top->reg_we_i = 1;
    top->reg_addr_i = regs[k];
    top->reg_wdata_i = regs[k + 1];
    fall();
    rise();  // the request is taken here
    top->reg_req_i = 0;
    fall();
    if (!top->reg_rvalid_o || top->reg_err_o) {
      std::snprintf(msg, sizeof msg, "register write %zu (address 0x%02x, data 0x%x): %s",
                    k / 2, regs[k], regs[k + 1],
                    top->reg_rvalid_o ? "refused (reg_err_o)" : "no response");
      fail(msg, cycle);
    }
    rise();
  }

  // Audio: samples back to back within a block, one idle cycle after each block.
  size_t next = 0;        // next sample to offer
  size_t fi = 0, di = 0;  // next expected feature vector, detection
  bool gap = false;       // the idle cycle after a block
  const uint64_t end = cycle + run_cycles;
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  while (cycle < end) {
    const bool offer = !gap && next < samples.size();
    top->audio_valid_i = offer;
    if (offer) top->audio_sample_i = static_cast<uint16_t>(samples[next]);
    fall();
    // what the next rising edge transfers
    gap = false;
    if (offer && top->audio_ready_o) {
      ++next;
      gap = next % block_len == 0;
    }
    if (top->tap_valid_o) {
      if (fi == exp_feat.size()) {
        std::snprintf(msg, sizeof msg, "unexpected feature vector, frame %u (nothing expected)",
                      top->tap_frame_o);
        fail(msg, cycle);
      }
      const Feature& e = exp_feat[fi];
      uint8_t got[kFeatBytes];
      for (int w = 0; w < kFeatBytes / 4; ++w)
        for (int b = 0; b < 4; ++b) got[4 * w + b] = top->tap_feat_o[w] >> (8 * b) & 0xFF;
      if (top->tap_frame_o != e.frame) {
        std::snprintf(msg, sizeof msg, "feature frame index: expected %u, actual %u", e.frame,
                      top->tap_frame_o);
        fail(msg, cycle);
      }
      if (std::memcmp(got, e.word, kFeatBytes)) {
        int b = 0;
        while (got[b] == e.word[b]) ++b;
        std::snprintf(msg, sizeof msg, "frame %u, band %d: expected code %u, actual %u",
                      e.frame, b, e.word[b], got[b]);
        fail(msg, cycle);
      }
      ++fi;
    }
    if (top->det_valid_o && top->det_ready_i) {
      if (di == exp_det.size()) {
        std::snprintf(msg, sizeof msg, "unexpected detection, window %u (nothing expected)",
                      top->det_window_o);
        fail(msg, cycle);
      }
      const Detection& e = exp_det[di];
      if (top->det_window_o != e.window || top->det_score_o != e.score ||
          top->det_flag_o != e.flag) {
        std::snprintf(msg, sizeof msg,
                      "window %u: expected (window %u, score %u, flag %u), actual (window %u, "
                      "score %u, flag %u)", top->det_window_o, e.window, e.score, e.flag,
                      top->det_window_o, top->det_score_o, top->det_flag_o);
        fail(msg, cycle);
      }
      ++di;
    }
    rise();
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;
  if (next != samples.size()) {
    std::snprintf(msg, sizeof msg, "%zu of %zu samples accepted after %llu cycles", next,
                  samples.size(), static_cast<unsigned long long>(run_cycles));
    fail(msg, cycle);
  }
  if (fi != exp_feat.size() || di != exp_det.size()) {
    std::snprintf(msg, sizeof msg,
                  "%zu feature vectors and %zu detections expected but never seen (first: %s "
                  "%u)", exp_feat.size() - fi, exp_det.size() - di,
                  fi != exp_feat.size() ? "frame" : "window",
                  fi != exp_feat.size() ? exp_feat[fi].frame : exp_det[di].window);
    fail(msg, cycle);
  }
  top->final();
  std::printf("{\"cycles\": %llu, \"wall_seconds\": %.6f, \"cpu_seconds\": %.6f, "
              "\"samples\": %zu, \"features\": %zu, \"detections\": %zu}\n",
              static_cast<unsigned long long>(run_cycles), wall, cpu, next, fi, di);
  return 0;
}
