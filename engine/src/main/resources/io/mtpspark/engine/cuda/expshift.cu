// Softmax numerator of one vector: a[i] = exp(a[i] - shift) and sum[0] = the sum of the results (the Backend's
// expShiftSum). Launch: grid = 1 (the sum is one block's reduction), block = a multiple of 32 up to 1024.
#include "reduce.cuh"

extern "C" __global__ void exp_shift_sum(float* a, int n, float shift, float* __restrict__ sum) {
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float e = expf(a[i] - shift);
        a[i] = e;
        s += e;
    }
    s = mtp_block_sum(s);
    if (threadIdx.x == 0) {
        sum[0] = s;
    }
}
