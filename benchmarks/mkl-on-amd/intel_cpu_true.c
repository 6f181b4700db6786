/*
 * Opt-in: makes the MKL inside libtorch take its AVX-512 code paths on AMD CPUs.
 *
 * MKL chooses its float32/float64 GEMM kernels by CPU vendor: on a non-Intel CPU it falls back to AVX2 kernels even
 * when the CPU has AVX-512 (AMD Zen 4 and 5). libtorch_cpu.so exports MKL's vendor check, so preloading a library
 * that defines it wins the symbol lookup. Nothing in libtorch is modified; unset LD_PRELOAD and it is gone.
 * Measured effect and the correctness check: docs/performance.md ("MKL on AMD CPUs").
 *
 *   cc -shared -fPIC -O2 -o libintel_cpu_true.so benchmarks/mkl-on-amd/intel_cpu_true.c
 *   LD_PRELOAD=$PWD/libintel_cpu_true.so dotnet run ...
 *
 * Use it only on CPUs that have the AVX-512 features MKL's kernels use (Zen 4 and later); on others MKL would run
 * instructions the CPU lacks and the process would die with SIGILL.
 */
int mkl_serv_intel_cpu_true(void) { return 1; }
