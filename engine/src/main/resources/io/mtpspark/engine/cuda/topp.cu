// Top-p helper: for each row of probabilities, the total mass and count of entries >= threshold[r]. The host
// bisects the threshold until the mass first reaches top-p, which selects the same nucleus as sorting does (up to
// ties at the threshold) without a device sort. Launch: grid = rows, block = a multiple of 32 up to 1024.
#include "reduce.cuh"

extern "C" __global__ void mass_at_least(const float* __restrict__ p, int rows, int n,
                                         const float* __restrict__ threshold, float* __restrict__ mass,
                                         int* __restrict__ count) {
    int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    const float* row = p + (long long) r * n;
    float th = threshold[r];
    float m = 0.0f;
    float c = 0.0f; // counted in float to reuse the sum reduction; exact below 2^24 entries
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        if (row[i] >= th) {
            m += row[i];
            c += 1.0f;
        }
    }
    m = mtp_block_sum(m);
    c = mtp_block_sum(c);
    if (threadIdx.x == 0) {
        mass[r] = m;
        count[r] = (int) c;
    }
}
