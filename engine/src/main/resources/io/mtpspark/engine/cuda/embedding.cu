// Embedding gather: row r of x gets the embedding of tokens[r]. Ids >= vocab are MTP mask tokens, embedded from the
// adapter's table (row id - vocab). The host validates ids, so the kernel does not bounds-check them.
// Launch: grid = rows, block = any multiple of 32; threads stride over the dimension.
extern "C" __global__ void embed_rows(float* __restrict__ x, const int* __restrict__ tokens, int rows,
                                      const float* __restrict__ table, const float* __restrict__ maskTable,
                                      int vocab, int dim) {
    int r = blockIdx.x;
    if (r >= rows) {
        return;
    }
    int t = tokens[r];
    const float* src = t < vocab ? table + (long long) t * dim : maskTable + (long long) (t - vocab) * dim;
    float* dst = x + (long long) r * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        dst[i] = src[i];
    }
}
