// RMSNorm of F32 rows into the next GEMM's input type: out row r = w * (x row * 1/sqrt(mean(x^2) + eps)), the CPU
// backends' association, stored as F32 or BF16 (outType). Row r reads x row rowIndex[r] when useIndex is set (the
// LM head's gather of the rows whose logits are asked for), else row r. Each row is one block's reduction, so a
// row's result does not depend on the other rows. Launch: grid = rows, block = a multiple of 32 up to 1024.
#include "reduce.cuh"

extern "C" __global__ void rmsnorm_to(void* __restrict__ out, int outType, const float* __restrict__ x,
                                      const int* __restrict__ rowIndex, int useIndex, const float* __restrict__ w,
                                      int rows, int dim, float eps) {
    int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    const float* xr = x + (long long) (useIndex ? rowIndex[r] : r) * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        ss += xr[i] * xr[i];
    }
    ss = mtp_block_sum(ss);
    float scale = 1.0f / sqrtf(ss / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        mtp_store(out, (long long) r * dim + i, w[i] * (scale * xr[i]), outType);
    }
}
