// KV-cache compaction after speculative acceptance: within the last block (starting at row blockStart), row
// blockStart + keep[i] moves to blockStart + i for i < count, in every layer, keys and values. keep is strictly
// increasing, so keep[i] >= i: copying rows in increasing i never overwrites a row that is still to be read. Each
// thread owns one column and walks the rows in that order, so no barrier is needed.
// cache is [layers][capacity][kvDim] for keys and the same for values; layerStride = capacity * kvDim.
// Launch: grid = (layers, 2) (y = 0 keys, 1 values), block = any multiple of 32.
extern "C" __global__ void kv_compact(float* keys, float* values, const int* __restrict__ keep, int count,
                                      int blockStart, int kvDim, long long layerStride) {
    float* base = (blockIdx.y == 0 ? keys : values) + blockIdx.x * layerStride;
    for (int d = threadIdx.x; d < kvDim; d += blockDim.x) {
        for (int i = 0; i < count; i++) {
            int from = keep[i];
            if (from != i) {
                base[(long long) (blockStart + i) * kvDim + d] = base[(long long) (blockStart + from) * kvDim + d];
            }
        }
    }
}
