// Row softmax in place with a temperature: x = softmax(x * invTemperature) per row of n values (sampling,
// speculative acceptance). Launch: grid = rows, block = a multiple of 32 up to 1024.
#include "reduce.cuh"

extern "C" __global__ void softmax_rows(float* x, int rows, int n, float invTemperature) {
    int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    float* row = x + (long long) r * n;
    float mx = MTP_NEG_INF;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        mx = fmaxf(mx, row[i] * invTemperature);
    }
    mx = mtp_block_max(mx);
    float sum = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        float e = expf(row[i] * invTemperature - mx);
        row[i] = e;
        sum += e;
    }
    sum = mtp_block_sum(sum); // its barriers make the exponentials visible before they are normalised
    float inv = 1.0f / sum;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        row[i] *= inv;
    }
}
