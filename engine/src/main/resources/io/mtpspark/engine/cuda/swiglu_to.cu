// SwiGLU after the fused gate+up GEMM: gu row r is [gate | up] (F32, 2 * hidden wide); out row r (the down GEMM's
// input, F32 or BF16) = silu(gate) * up = gate / (1 + exp(-gate)) * up, the CPU backends' formula.
// Launch: any 1-D grid; threads stride over rows * hidden.
#include "reduce.cuh"

extern "C" __global__ void swiglu_to(void* __restrict__ out, int outType, const float* __restrict__ gu, int rows,
                                     int hidden) {
    long long n = (long long) rows * hidden;
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n;
         i += (long long) gridDim.x * blockDim.x) {
        long long r = i / hidden;
        long long c = i - r * hidden;
        float g = gu[r * 2 * hidden + c];
        float u = gu[r * 2 * hidden + hidden + c];
        mtp_store(out, i, g / (1.0f + expf(-g)) * u, outType);
    }
}
