// Embedding gather of the device forward: residual row r (F32) gets the embedding of tokens[r], read from the
// model's table in its stored type (F32 or BF16, widened exactly); ids >= vocab are MTP mask tokens, read from the
// adapter's F32 mask table (row id - vocab). The host validates ids. Launch: grid = rows, block = multiple of 32.
#include "reduce.cuh"

extern "C" __global__ void embed_tokens(float* __restrict__ x, const int* __restrict__ tokens, int rows,
                                        const void* __restrict__ table, int tableType,
                                        const float* __restrict__ maskTable, int vocab, int dim) {
    int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    int t = tokens[r];
    float* dst = x + (long long) r * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        dst[i] = t < vocab ? mtp_load(table, (long long) t * dim + i, tableType)
                           : maskTable[(long long) (t - vocab) * dim + i];
    }
}
