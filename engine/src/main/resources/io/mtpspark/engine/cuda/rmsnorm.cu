// RMSNorm over rows: out = w * (x * 1/sqrt(mean(x^2) + eps)), the same association as the CPU backends so results
// stay within float rounding of them. out may alias x (each element is read before it is written, after the
// reduction). Launch: grid = rows, block = a multiple of 32 up to 1024.
#include "reduce.cuh"

extern "C" __global__ void rmsnorm_rows(float* out, const float* x, const float* __restrict__ w, int rows, int dim,
                                        float eps) {
    int r = blockIdx.x;
    if (r >= rows) {
        return; // the whole block leaves together, so no thread misses a barrier
    }
    const float* xr = x + (long long) r * dim;
    float* o = out + (long long) r * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        ss += xr[i] * xr[i];
    }
    ss = mtp_block_sum(ss);
    float scale = 1.0f / sqrtf(ss / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        o[i] = w[i] * (scale * xr[i]);
    }
}
