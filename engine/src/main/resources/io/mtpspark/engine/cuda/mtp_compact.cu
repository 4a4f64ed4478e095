// KV compaction after device verification, every sequence of the step in one launch, from the device-side accept
// count: for segment s with a = verdict[4s] accepted drafts, the K/V rows of real rows 0..a (block offsets
// keepFrom + keep[i]) move to keepFrom + i, so the cache ends at cacheLen + keepFrom + a + 1. Linear blocks and
// single-row steps have keep[i] == i and move nothing; quadratic blocks keep rows g(m+1), g <= a. keep is strictly
// increasing, so walking i upward never overwrites a row still to be read; each thread owns columns, no barrier.
// Pools are [layers][slots * capacity][kvWords] 32-bit words (BF16 pairs or F32), layerStride words per layer; seg
// is the forward's descriptor [segments][4] (first row, rows, cache length, slot base row).
// Launch: grid = (layers, 2, segments) (y = 0 keys, 1 values), block = any multiple of 32.
extern "C" __global__ void kv_compact_accepted(float* keys, float* values, const int* __restrict__ seg,
                                               const int* __restrict__ verdict, const int* __restrict__ keep,
                                               int keepStride, int kvWords, long long layerStride) {
    int s = blockIdx.z;
    int a = verdict[4 * s];
    if (a <= 0) {
        return; // nothing verified, or only real row 0 kept: already in place
    }
    long long start = (long long) seg[4 * s + 3] + seg[4 * s + 2] + verdict[4 * s + 3];
    float* base = (blockIdx.y == 0 ? keys : values) + blockIdx.x * layerStride + start * kvWords;
    const int* k = keep + s * keepStride;
    for (int w = threadIdx.x; w < kvWords; w += blockDim.x) {
        for (int i = 1; i <= a; i++) {
            int from = k[i];
            if (from != i) {
                base[(long long) i * kvWords + w] = base[(long long) from * kvWords + w];
            }
        }
    }
}
