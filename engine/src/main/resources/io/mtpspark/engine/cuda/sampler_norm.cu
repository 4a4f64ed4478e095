// One sampler-head layer's activation and norm, per row: y = w * (v / sqrt(mean(v^2) + eps)) with v = SiLU(x), the
// host drafter's order (SamplerHeadDrafter.forward), plus residual row r when useResidual is set (the head's
// h1 + h2). Writes y as F32 into outF32 (may be x itself: each thread rereads only its own columns) and in the next
// GEMM's input type into outAct. Launch: grid = rows, block = a multiple of 32 up to 1024.
#include "reduce.cuh"

__device__ __forceinline__ float mtp_silu(float v) {
    return v / (1.0f + expf(-v));
}

extern "C" __global__ void sampler_norm(float* outF32, void* __restrict__ outAct, int actType, const float* x,
                                        const float* __restrict__ w, const float* __restrict__ residual,
                                        int useResidual, int dim, float eps) {
    long long r = blockIdx.x;
    const float* xr = x + r * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = mtp_silu(xr[i]);
        ss += v * v;
    }
    ss = mtp_block_sum(ss);
    float scale = 1.0f / sqrtf(ss / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float y = w[i] * (scale * mtp_silu(xr[i]));
        if (useResidual) {
            y += residual[r * dim + i];
        }
        outF32[r * dim + i] = y;
        mtp_store(outAct, r * dim + i, y, actType);
    }
}
