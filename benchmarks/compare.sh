#!/usr/bin/env bash
# Side by side: the RVPT step (ViT-B/32, D = 3, b = 50, alpha = 2, SGD, 1000 classes) in Rvpt/TorchSharp and in
# PyTorch eager (benchmarks/reference/rvpt_step.py) at the same batch and thread count, run one after the other;
# plus the plain ViT-B/32 forward, each framework's measured matmul peak, the FLOP fraction of that peak, and the
# data-loading share of a step. Prints a Markdown table (docs/performance.md explains it) and keeps the raw JSON.
# --repeat K runs every forward/step pair K times, alternating the frameworks, and reports the median of the K
# per-run medians with their range (this VM's run-to-run spread is often 10%). --layernorm picks the reference's
# LayerNorm: openai (default; float32 as OpenAI's CLIP defines it, PyTorch 1.13's faster bfloat16 variant here) or
# plain (nn.LayerNorm in the compute dtype, the arithmetic Rvpt's bfloat16 LayerNorm does).
#
#   benchmarks/compare.sh [--batch 32] [--threads 2] [--steps 5] [--warmup 1] [--dtypes "float32 bfloat16"]
#                         [--repeat 1] [--layernorm openai|plain] [--bf16 copy|autocast] [--out DIR] [--skip-loader]
#                         [--mkl-shim]
# --mkl-shim builds benchmarks/mkl-on-amd/intel_cpu_true.c (needs a C compiler, ${CC:-cc}) and preloads it into the
# Rvpt runs, so that libtorch's MKL uses its AVX-512 kernels on AMD CPUs (opt-in; see that file).
#
# Needs: the .NET SDK; Debian's python3-torch and libopenblas0-pthread (apt-get install -y python3-torch
# libopenblas0-pthread), run with /usr/bin/python3 (override with PYTHON=...).
# Both frameworks run with OMP_WAIT_POLICY=PASSIVE unless the variable is already set: Debian's PyTorch runs float32
# GEMMs on OpenBLAS's own threads while its OpenMP workers, under libgomp's default active wait, spin on the same
# cores (its float32 step took 7.8 s instead of 6.4 s at 2 threads on 2 cores). The reference sizes OpenBLAS's pool
# to --threads.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
batch=32 threads=2 steps=5 warmup=1 dtypes="float32 bfloat16" bf16=copy out="" loader=1 repeat=1 layernorm=openai shim=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --batch) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --dtypes) dtypes="$2"; shift 2 ;;
    --bf16) bf16="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --layernorm) layernorm="$2"; shift 2 ;;
    --mkl-shim) shim=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --skip-loader) loader=0; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
py="${PYTHON:-/usr/bin/python3}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
"$py" -c "import torch" 2>/dev/null || { echo "PyTorch not importable by $py: apt-get install -y python3-torch libopenblas0-pthread" >&2; exit 1; }
out="${out:-$root/artifacts/compare/$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"

dotnet build "$root/benchmarks/Rvpt.Benchmarks" -c Release -v q -nologo >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }
dll="$root/benchmarks/Rvpt.Benchmarks/bin/Release/net10.0/Rvpt.Benchmarks.dll"
ts_env=()
if [[ $shim == 1 ]]; then
  "${CC:-cc}" -shared -fPIC -O2 -o "$out/libintel_cpu_true.so" "$root/benchmarks/mkl-on-amd/intel_cpu_true.c"
  ts_env=(env "LD_PRELOAD=$out/libintel_cpu_true.so")
fi
ref="$root/benchmarks/reference/rvpt_step.py"
common=(--threads "$threads" --steps "$steps" --warmup "$warmup")

{
  echo "date: $(date -u +%FT%TZ)"; echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "bf16 flags: $(grep -o -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "load before: $(cat /proc/loadavg)"; echo "repeat: $repeat; reference LayerNorm: $layernorm; bf16 mode: $bf16; MKL shim for Rvpt: $shim"
  echo "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset} MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-unset}"
} >"$out/machine.txt"

run() { # name, command...
  local name="$1"; shift
  echo ">> $name" >&2
  "$@" >"$out/$name.json"
}
for dtype in $dtypes; do
  run "ts-matmul-$dtype" "${ts_env[@]}" dotnet "$dll" matmul --dtype "$dtype" --threads "$threads" --reps 5
  run "py-matmul-$dtype" "$py" "$ref" --what matmul --dtype "$dtype" --threads "$threads" --steps 5
  for what in forward step; do
    for ((r = 1; r <= repeat; r++)); do
      run "ts-$what-$dtype.r$r" "${ts_env[@]}" dotnet "$dll" step --what "$what" --dtype "$dtype" --batch "$batch" "${common[@]}"
      run "py-$what-$dtype.r$r" "$py" "$ref" --what "$what" --dtype "$dtype" --bf16 "$bf16" --layernorm "$layernorm" \
        --batch "$batch" "${common[@]}"
    done
  done
done
if [[ $loader == 1 ]]; then
  run "ts-loader-float32" "${ts_env[@]}" dotnet "$dll" loader --dtype float32 --batch "$batch" --threads "$threads" --steps 3
fi
echo "load after: $(cat /proc/loadavg)" >>"$out/machine.txt"

"$py" - "$out" "$dtypes" <<'PY'
import json, os, sys
out, dtypes = sys.argv[1], sys.argv[2].split()
import glob, statistics
def load(name):
    path = os.path.join(out, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None
def load_runs(name):
    """The repeated runs of one measurement, summarised: medians of the per-run values, range of the step times."""
    runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, name + ".r*.json")))]
    if not runs: return None
    s = {k: statistics.median(r[k] for r in runs) for k in ("median_s", "images_per_s", "gflop_per_s", "peak_rss_mib")}
    s.update(gflop=runs[0]["gflop"], runs=len(runs), lo=min(r["median_s"] for r in runs), hi=max(r["median_s"] for r in runs))
    return s
print(open(os.path.join(out, "machine.txt")).read().strip())
print()
print("| dtype | work | runs | Rvpt/TorchSharp s | PyTorch eager s | ratio TS/PT | TS range s | PT range s | TS images/s | PT images/s | TS peak RSS MiB | PT peak RSS MiB | GFLOP | TS % of TS matmul peak | PT % of PT matmul peak |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for d in dtypes:
    tm, pm = load(f"ts-matmul-{d}"), load(f"py-matmul-{d}")
    for what in ("forward", "step"):
        t, p = load_runs(f"ts-{what}-{d}"), load_runs(f"py-{what}-{d}")
        if not t or not p: continue
        tf = 100 * t["gflop_per_s"] / tm["gflop_per_s_best"] if tm else float("nan")
        pf = 100 * p["gflop_per_s"] / pm["gflop_per_s_best"] if pm else float("nan")
        print(f"| {d} | {what} | {t['runs']} | {t['median_s']:.3f} | {p['median_s']:.3f} | {t['median_s'] / p['median_s']:.2f} | "
              f"{t['lo']:.3f}-{t['hi']:.3f} | {p['lo']:.3f}-{p['hi']:.3f} | "
              f"{t['images_per_s']:.2f} | {p['images_per_s']:.2f} | {t['peak_rss_mib']:.0f} | {p['peak_rss_mib']:.0f} | "
              f"{t['gflop']:.0f} | {tf:.0f}% | {pf:.0f}% |")
print()
for d in dtypes:
    tm, pm = load(f"ts-matmul-{d}"), load(f"py-matmul-{d}")
    if tm and pm:
        print(f"matmul 2048^3 {d}: TorchSharp {tm['gflop_per_s_best']:.0f} GFLOP/s, PyTorch {pm['gflop_per_s_best']:.0f} GFLOP/s (best of 5)")
if "float32" in dtypes and "bfloat16" in dtypes:
    for fw in ("ts", "py"):
        a, b = load_runs(f"{fw}-step-float32"), load_runs(f"{fw}-step-bfloat16")
        if a and b:
            print(f"{'TorchSharp' if fw == 'ts' else 'PyTorch'} step speed-up bfloat16 over float32: {a['median_s'] / b['median_s']:.2f}x")
l = load("ts-loader-float32")
if l:
    print(f"data loading (float32, batch {l['batch']}): loader alone {l['loader_alone_s_per_batch']:.3f} s/batch "
          f"({l['loader_alone_images_per_s']:.1f} images/s); step in memory {l['step_in_memory_s']:.3f} s, with the loader "
          f"{l['step_with_loader_s']:.3f} s; waiting for batches {100 * l['wait_share']:.1f}% of the step, slowdown "
          f"{100 * l['slowdown_share']:.1f}%")
print(f"\nraw JSON: {out}")
PY
