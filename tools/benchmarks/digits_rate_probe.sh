#!/usr/bin/env bash
# How fast the digits job's trainings run, several at once: starts
# tools/digits_benchmark.py with JOBS trainings at once (one thread each)
# on SEEDS, stops the whole job after SECONDS (no AP is recorded), and
# prints each arm's seconds per iteration and the iterations per second
# of all the runs together (tools/benchmarks/iteration_rates.py). With
# nvidia-smi, the GPU's use every 5 s goes to WORK_DIR_smi.csv.
#
#   bash tools/benchmarks/digits_rate_probe.sh WORK_DIR SECONDS JOBS SEEDS \
#       [more digits_benchmark.py options, e.g. --device cuda]
set -u
if [ $# -lt 4 ]; then
  echo "usage: $0 WORK_DIR SECONDS JOBS SEEDS [digits_benchmark options]" >&2
  exit 2
fi
WORK_DIR=${1%/}; SECONDS_RUN=$2; JOBS=$3; SEEDS=$4; shift 4
PYTHON=${PYTHON:-python}
mkdir -p "$WORK_DIR"
SMI=
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv \
    -l 5 > "${WORK_DIR}_smi.csv" 2>&1 &
  SMI=$!
fi
# its own process group: the job and its trainings are stopped together,
# and nothing else on the machine
setsid "$PYTHON" tools/digits_benchmark.py --jobs "$JOBS" --threads 1 \
  --seed-list "$SEEDS" --work-dir "$WORK_DIR" --no-figures "$@" \
  > "$WORK_DIR.log" 2>&1 &
JOB=$!
sleep "$SECONDS_RUN"
kill -TERM -- "-$JOB" 2> /dev/null
sleep 3
kill -KILL -- "-$JOB" 2> /dev/null
wait "$JOB" 2> /dev/null  # its exit status is the signal's
[ -n "$SMI" ] && kill "$SMI"
"$PYTHON" tools/benchmarks/iteration_rates.py "$WORK_DIR"
