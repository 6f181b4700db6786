#!/usr/bin/env bash
# Side by side: the RVPT training step (ViT-B/32, D = 3, b = 50, alpha = 2, SGD, 1000 classes) in Rvpt/TorchSharp —
# the trainer's own step, RvptStep — and in PyTorch eager (benchmarks/reference/rvpt_step.py) at the same batch and
# thread count, run one after the other; plus the plain ViT-B/32 forward, each framework's measured matmul peak, the
# FLOP fraction of that peak, the data-loading share of a step, and optionally whole epochs and RSS over many steps.
# Prints Markdown tables (docs/performance.md explains them) and keeps the raw JSON.
#
#   benchmarks/compare.sh [--batch 32] [--threads 2] [--steps 5] [--warmup 1] [--dtypes "float32 bfloat16"]
#                         [--repeat 1] [--layernorm openai|plain] [--bf16 "copy autocast"]
#                         [--rvpt-variants "default last-block fast cached fast-cached"] [--epoch-classes 0] [--shots 16]
#                         [--epochs 2] [--memory-steps 0] [--machine-openblas] [--out DIR] [--skip-loader] [--skip-step]
#                         [--mkl-shim]
#
# Variants, every one reported:
# - PyTorch: float32; bfloat16 as a bfloat16 copy of the frozen tower (--bf16 copy, what Rvpt's MixedPrecision does)
#   and under torch.autocast("cpu", dtype=torch.bfloat16) (--bf16 autocast, how a PyTorch user writes it). Ratios are
#   taken against the fastest PyTorch variant of each dtype.
# - Rvpt: default (the library as a user gets it), last-block (DeepPromptInjector.ClassTokenOnlyLastBlock), fast (the
#   last block and DeepPromptInjector.SkipReplacedPromptOutputs), cached (the step of epochs 2.. without augmentation:
#   shared trunk and frozen class tokens from the per-sample caches, with the class-token-only last block) and
#   fast-cached (cached with the prompts' outputs skipped too).
# --repeat K runs every Rvpt/PyTorch group K times, alternating the frameworks, and reports the median of the K
# per-run medians with their range (this VM's run-to-run spread is often 10% or more: quote medians of alternating
# runs). --epoch-classes C (> 0) also trains whole epochs of 16 (--shots) x C images, with and without augmentation,
# in both frameworks (Rvpt through FewShotTrainer.Fit with the caches, the class-token-only last block and the prompts'
# outputs skipped; PyTorch as
# a plain loop, no caching), --epochs epochs each, and reports the epochs after the first. --memory-steps N (> 0) runs
# Rvpt's memory mode for N steps in each dtype (RSS and live tensors after every step). --layernorm picks the
# reference's LayerNorm: openai (default; float32 as OpenAI's CLIP defines it; autocast needs it) or plain.
# --skip-step leaves out the forward and step runs (for an epoch or memory measurement alone).
# --mkl-shim builds benchmarks/mkl-on-amd/intel_cpu_true.c (needs ${CC:-cc}) and preloads it into the Rvpt runs.
#
# OpenBLAS: this machine kind sets OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE), which forces Debian PyTorch's OpenBLAS
# onto one kernel set (Haswell's AVX2 on an AVX-512 CPU). The PyTorch commands here — and only they, never tests or CI
# — run with both unset, so OpenBLAS picks its own kernels; each JSON line records the kernels that ran
# (openblas_core). --machine-openblas adds a float32 PyTorch step run with the machine's settings, for comparison.
#
# Needs: the .NET SDK; Debian's python3-torch and libopenblas0-pthread (apt-get install -y python3-torch
# libopenblas0-pthread; without the latter PyTorch runs on the reference BLAS and the script stops), run with
# /usr/bin/python3 (override with PYTHON=...). Both frameworks run with OMP_WAIT_POLICY=PASSIVE unless the variable is
# already set (Debian's PyTorch runs float32 GEMMs on OpenBLAS's own threads while its OpenMP workers would otherwise
# spin on the same cores). The reference sizes OpenBLAS's pool to --threads.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
batch=32 threads=2 steps=5 warmup=1 dtypes="float32 bfloat16" bf16="copy autocast" out="" loader=1 repeat=1
layernorm=openai shim=0 variants="default last-block fast cached fast-cached" epoch_classes=0 shots=16 epochs=2 memory_steps=0
machine_openblas=0 step=1
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
    --rvpt-variants) variants="$2"; shift 2 ;;
    --epoch-classes) epoch_classes="$2"; shift 2 ;;
    --shots) shots="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --memory-steps) memory_steps="$2"; shift 2 ;;
    --machine-openblas) machine_openblas=1; shift ;;
    --mkl-shim) shim=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --skip-loader) loader=0; shift ;;
    --skip-step) step=0; shift ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
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
ts=(dotnet "$dll")
if [[ $shim == 1 ]]; then
  "${CC:-cc}" -shared -fPIC -O2 -o "$out/libintel_cpu_true.so" "$root/benchmarks/mkl-on-amd/intel_cpu_true.c"
  ts=(env "LD_PRELOAD=$out/libintel_cpu_true.so" dotnet "$dll")
fi
ref="$root/benchmarks/reference/rvpt_step.py"
# PyTorch with OpenBLAS's own kernel choice: the machine's forcing variables are unset for these commands only.
pt=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$ref")
pt_machine=("$py" "$ref")
common=(--threads "$threads" --steps "$steps" --warmup "$warmup")

{
  echo "date: $(date -u +%FT%TZ)"; echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "bf16 flags: $(grep -o -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "load before: $(cat /proc/loadavg)"
  echo "repeat: $repeat; reference LayerNorm: $layernorm; PyTorch bf16 modes: $bf16; Rvpt variants: $variants; MKL shim for Rvpt: $shim"
  echo "OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset} MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-unset}"
  echo "machine OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset} (unset for the PyTorch runs)"
} >"$out/machine.txt"

run() { # name, command...
  local name="$1"; shift
  echo ">> $name" >&2
  "$@" >"$out/$name.json"
}
variant_flags() { # Rvpt step variant -> switches
  case "$1" in
    default) echo "" ;;
    last-block) echo "--class-token-last-block" ;;
    fast) echo "--class-token-last-block --skip-prompt-outputs" ;;
    cached) echo "--cache-trunk --cache-frozen --class-token-last-block" ;;
    fast-cached) echo "--cache-trunk --cache-frozen --class-token-last-block --skip-prompt-outputs" ;;
    *) echo "unknown Rvpt variant $1" >&2; exit 2 ;;
  esac
}
py_modes() { # PyTorch variants of a dtype
  if [[ $1 == bfloat16 ]]; then echo "$bf16"; else echo "eager"; fi
}

run "py-matmul-float32-check" "${pt[@]}" --what matmul --dtype float32 --threads "$threads" --steps 1 --n 256
core=$("$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["openblas_core"])' "$out/py-matmul-float32-check.json")
if [[ $core == None ]]; then
  echo "PyTorch does not run on OpenBLAS here (reference BLAS?): apt-get install -y libopenblas0-pthread" >&2; exit 1
fi
echo "PyTorch's OpenBLAS kernels: $core" >>"$out/machine.txt"

for dtype in $dtypes; do
  run "ts-matmul-$dtype" "${ts[@]}" matmul --dtype "$dtype" --threads "$threads" --reps 5
  run "py-matmul-$dtype" "${pt[@]}" --what matmul --dtype "$dtype" --threads "$threads" --steps 5
  for ((r = 1; r <= repeat * step; r++)); do # no forward/step runs with --skip-step
    run "ts-forward-$dtype-default.r$r" "${ts[@]}" step --what forward --dtype "$dtype" --batch "$batch" "${common[@]}"
    run "py-forward-$dtype-eager.r$r" "${pt[@]}" --what forward --dtype "$dtype" --layernorm "$layernorm" --batch "$batch" "${common[@]}"
    for v in $variants; do
      # shellcheck disable=SC2046
      run "ts-step-$dtype-$v.r$r" "${ts[@]}" step --what step --dtype "$dtype" --batch "$batch" "${common[@]}" $(variant_flags "$v")
    done
    for m in $(py_modes "$dtype"); do
      mode=(); [[ $m == eager ]] || mode=(--bf16 "$m")
      run "py-step-$dtype-$m.r$r" "${pt[@]}" --what step --dtype "$dtype" "${mode[@]}" --layernorm "$layernorm" --batch "$batch" "${common[@]}"
    done
    if [[ $machine_openblas == 1 && $dtype == float32 ]]; then
      run "py-step-$dtype-machine-openblas.r$r" "${pt_machine[@]}" --what step --dtype "$dtype" --layernorm "$layernorm" --batch "$batch" "${common[@]}"
    fi
  done
  if [[ $epoch_classes -gt 0 ]]; then
    for aug in noaug aug; do
      augflag=(); [[ $aug == aug ]] && augflag=(--augment)
      ecommon=(--classes "$epoch_classes" --shots "$shots" --epochs "$epochs" --batch "$batch" --threads "$threads" --dtype "$dtype")
      for ((r = 1; r <= repeat; r++)); do
        if [[ $aug == noaug ]]; then
          run "ts-epoch-$aug-$dtype-fast-cached.r$r" "${ts[@]}" epoch "${ecommon[@]}" --cache --class-token-last-block --skip-prompt-outputs
        else
          run "ts-epoch-$aug-$dtype-fast.r$r" "${ts[@]}" epoch "${ecommon[@]}" --augment --class-token-last-block --skip-prompt-outputs
        fi
        for m in $(py_modes "$dtype"); do
          mode=(); [[ $m == eager ]] || mode=(--bf16 "$m")
          run "py-epoch-$aug-$dtype-$m.r$r" "${pt[@]}" --what epoch "${ecommon[@]}" "${augflag[@]}" "${mode[@]}" --layernorm "$layernorm"
        done
      done
    done
  fi
  if [[ $memory_steps -gt 0 ]]; then
    run "ts-memory-$dtype" "${ts[@]}" memory --dtype "$dtype" --batch "$batch" --threads "$threads" --steps "$memory_steps"
  fi
done
if [[ $loader == 1 ]]; then
  run "ts-loader-float32" "${ts[@]}" loader --dtype float32 --batch "$batch" --threads "$threads" --steps 3
fi
echo "load after: $(cat /proc/loadavg)" >>"$out/machine.txt"

"$py" - "$out" "$dtypes" <<'PY'
import glob, json, os, re, statistics, sys
out, dtypes = sys.argv[1], sys.argv[2].split()

def load(name):
    path = os.path.join(out, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None

def groups(kind):
    """{(framework, dtype, variant): summary} of the repeated runs of one kind (forward, step, epoch-noaug, epoch-aug)."""
    found = {}
    for path in glob.glob(os.path.join(out, f"*-{kind}-*.r*.json")):
        m = re.fullmatch(rf"(ts|py)-{kind}-(float32|bfloat16)-(.+)\.r\d+\.json", os.path.basename(path))
        if m: found.setdefault(m.groups(), []).append(json.load(open(path)))
    result = {}
    for key, runs in found.items():
        t = "epoch_after_first_s" if kind.startswith("epoch") else "median_s"
        values = [r[t] for r in runs]
        result[key] = dict(s=statistics.median(values), lo=min(values), hi=max(values), runs=len(runs),
                           rss=statistics.median(r["peak_rss_mib"] for r in runs), first=runs[0])
    return result

def label(framework, variant):
    if framework == "ts": return "Rvpt" + ("" if variant == "default" else f" ({variant})")
    return "PyTorch" + {"eager": "", "copy": " (bf16 copy)", "autocast": " (autocast)",
                        "machine-openblas": " (machine's forced OpenBLAS kernels)"}.get(variant, f" ({variant})")

print(open(os.path.join(out, "machine.txt")).read().strip())
ratios = {}
for kind, unit in (("forward", "s per batch"), ("step", "s per step"), ("epoch-noaug", "s per epoch after the first"),
                   ("epoch-aug", "s per epoch after the first")):
    g = groups(kind)
    if not g: continue
    print(f"\n### {kind} ({unit})\n")
    print("| dtype | variant | runs | median s | range s | ratio to fastest PyTorch | images/s | peak RSS MiB | GFLOP/s (analytic FLOPs of the full step) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in dtypes:
        rows = {k: v for k, v in g.items() if k[1] == d}
        py = [v["s"] for k, v in rows.items() if k[0] == "py" and k[2] != "machine-openblas"]
        fastest = min(py) if py else float("nan")
        for (fw, _, variant), v in sorted(rows.items(), key=lambda kv: (kv[0][0] != "ts", kv[0][2])):
            first = v["first"]
            images = first.get("images_per_s") if kind in ("forward", "step") else first["batch"] / first["step_after_first_s"]
            rate = first.get("gflop_per_s", float("nan")) * first.get("median_s", float("nan")) / v["s"] if "gflop_per_s" in first else float("nan")
            ratio = v["s"] / fastest
            if fw == "ts": ratios.setdefault((kind, d), []).append((variant, ratio))
            print(f"| {d} | {label(fw, variant)} | {v['runs']} | {v['s']:.3f} | {v['lo']:.3f}-{v['hi']:.3f} | {ratio:.2f} | "
                  f"{images:.2f} | {v['rss']:.0f} | {rate:.0f} |")
print()
goals = {"step": 0.8, "epoch-noaug": 0.5}
for (kind, d), rs in sorted(ratios.items()):
    if kind == "step":  # the per-step goal is the step every epoch can run; the cached one needs augmentation off
        for variant, ratio in sorted(r for r in rs if r[0].endswith("cached")):
            print(f"step {d} with the caches filled (epochs 2.. without augmentation), {variant}: {ratio:.2f}x the fastest PyTorch variant")
        rs = [r for r in rs if not r[0].endswith("cached")] or rs
    best = min(rs, key=lambda r: r[1])
    goal = goals.get(kind)
    print(f"{kind} {d}: best Rvpt variant {best[0]} at {best[1]:.2f}x the fastest PyTorch variant" +
          (f" (goal <= {goal}: {'met' if best[1] <= goal else 'not met'})" if goal else ""))
for d in dtypes:
    tm, pm = load(f"ts-matmul-{d}"), load(f"py-matmul-{d}")
    if tm and pm:
        print(f"matmul 2048^3 {d}: TorchSharp {tm['gflop_per_s_best']:.0f} GFLOP/s, PyTorch {pm['gflop_per_s_best']:.0f} GFLOP/s (best of 5)")
    mem = load(f"ts-memory-{d}")
    if mem:
        print(f"memory {d} ({mem['steps']} steps, batch {mem['batch']}): RSS after step 10 {mem['rss_after_step_10_mib']} MiB, "
              f"after the last {mem['rss_after_last_step_mib']} MiB, peak {mem['peak_rss_mib']:.0f} MiB; live tensors {mem['live_tensors']}")
l = load("ts-loader-float32")
if l:
    print(f"data loading (float32, batch {l['batch']}): loader alone {l['loader_alone_s_per_batch']:.3f} s/batch "
          f"({l['loader_alone_images_per_s']:.1f} images/s); step in memory {l['step_in_memory_s']:.3f} s, with the loader "
          f"{l['step_with_loader_s']:.3f} s; waiting for batches {100 * l['wait_share']:.1f}% of the step, slowdown "
          f"{100 * l['slowdown_share']:.1f}%")
print(f"\nraw JSON: {out}")
PY
