// Greedy verification of one decode step, one warp per sequence (segment), from the device argmax of its logit rows.
// A segment's logit rows are its real rows r_0..r_d in order; the draft verified at row g is the token of real row
// g + 1. Lane g compares draft g + 1 with argmax g; the accepted prefix a is the first mismatch (d when none), so the
// emitted tokens are argmax 0..a (accepted drafts equal their argmax, then the bonus). Emission is cut after the
// first stop token (the small stopIds table). The keep-list is the offsets of real rows 0..a from real row 0 (the
// KV rows compaction keeps); the next draft row is the row after real row a when that row is a mask token (an id
// >= vocab) of the same block and no stop token was emitted, else -1.
// segLogits: [segments][2] first logit index, logit count (0 = nothing to verify); seg: the forward's descriptor
// [segments][4] first row, rows, cache length, slot base. verdict: [segments][4] accepted, emitted, next draft row
// (block offset), offset of real row 0 in the block. keep: [segments][keepStride].
// Launch: grid = segments, block = 32.
__device__ __forceinline__ unsigned mtp_ballot(bool p) {
    unsigned m = p ? 1u << (threadIdx.x & 31) : 0u;
    for (int o = 16; o > 0; o >>= 1) {
        m |= __shfl_xor_sync(0xffffffffu, m, o);
    }
    return m;
}

__device__ __forceinline__ int mtp_lowest_bit(unsigned m) {
    int i = 0;
    while (i < 32 && ((m >> i) & 1u) == 0u) {
        i++;
    }
    return i;
}

extern "C" __global__ void mtp_verify(const int* __restrict__ argmax, const int* __restrict__ tokens,
                                      const int* __restrict__ logitRows, const int* __restrict__ segLogits,
                                      const int* __restrict__ seg, const int* __restrict__ stopIds, int nStop,
                                      int vocab, int* __restrict__ verdict, int* __restrict__ keep, int keepStride) {
    int s = blockIdx.x;
    int lane = threadIdx.x & 31;
    int first = segLogits[2 * s];
    int n = segLogits[2 * s + 1];
    if (n <= 0) {
        if (lane == 0) {
            verdict[4 * s] = -1;
            verdict[4 * s + 1] = 0;
            verdict[4 * s + 2] = -1;
            verdict[4 * s + 3] = 0;
        }
        return;
    }
    int d = n - 1;
    bool mismatch = lane < d && tokens[logitRows[first + lane + 1]] != argmax[first + lane];
    unsigned miss = mtp_ballot(mismatch);
    int a = miss != 0u ? mtp_lowest_bit(miss) : d;
    bool stop = false;
    if (lane <= a) {
        int t = argmax[first + lane];
        for (int i = 0; i < nStop; i++) {
            stop |= t == stopIds[i];
        }
    }
    unsigned stops = mtp_ballot(stop);
    int emitted = stops != 0u ? mtp_lowest_bit(stops) + 1 : a + 1;
    int row0 = logitRows[first];
    if (lane <= a) {
        keep[s * keepStride + lane] = logitRows[first + lane] - row0;
    }
    if (lane == 0) {
        int segFirst = seg[4 * s];
        int segRows = seg[4 * s + 1];
        int next = logitRows[first + a] + 1 - segFirst;
        bool draftRow = stops == 0u && next < segRows && tokens[segFirst + next] >= vocab;
        verdict[4 * s] = a;
        verdict[4 * s + 1] = emitted;
        verdict[4 * s + 2] = draftRow ? next : -1;
        verdict[4 * s + 3] = row0 - segFirst;
    }
}
