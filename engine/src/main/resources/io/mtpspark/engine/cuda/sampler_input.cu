// The sampler head's input rows on the device, one block per sequence (segment), for draft pass `pass`:
// [E[prev] ; z(mask row pass)] in the GEMM input type, where prev is the verified bonus token (argmax of real row a)
// in pass 0 and the previous pass's draft after that, and z is the final-norm hidden state of the pass-th mask row
// from the verifier's next draft row. Pass 0 also counts each segment's drafts (the run of mask-token rows there, at
// most maxDrafts); pass p > 0 first records the previous pass's argmax as draft p - 1. Segments without drafts (or
// past their count) get zero rows, so the batched GEMMs never read stale memory. Launched passes + 1 times, the
// last only to record the final drafts. verdict/segLogits: DeviceVerifier's; seg: the forward's descriptor.
// Launch: grid = segments, block = a multiple of 32.
#include "reduce.cuh"

extern "C" __global__ void sampler_input(void* __restrict__ in, int inType, const void* __restrict__ table,
                                         int tableType, const float* __restrict__ hidden,
                                         const int* __restrict__ seg, const int* __restrict__ segLogits,
                                         const int* __restrict__ verdict, const int* __restrict__ argmax,
                                         const int* __restrict__ tokens, int vocab,
                                         const int* __restrict__ passArgmax, int* __restrict__ drafts,
                                         int* __restrict__ counts, int maxDrafts, int pass, int passes, int dim) {
    int s = blockIdx.x;
    int segFirst = seg[4 * s];
    int segRows = seg[4 * s + 1];
    int row = verdict[4 * s + 2];
    int count;
    int prev;
    if (pass == 0) {
        count = 0;
        if (segLogits[2 * s + 1] > 0 && row >= 0) {
            while (count < maxDrafts && row + count < segRows && tokens[segFirst + row + count] >= vocab) {
                count++;
            }
        }
        prev = count > 0 ? argmax[segLogits[2 * s] + verdict[4 * s]] : 0;
        if (threadIdx.x == 0) {
            counts[s] = count;
        }
    } else {
        count = counts[s];
        prev = passArgmax[s];
        if (threadIdx.x == 0 && pass - 1 < count) {
            drafts[s * maxDrafts + pass - 1] = prev;
        }
    }
    if (pass >= passes) {
        return;
    }
    long long out = (long long) s * 2 * dim;
    bool active = pass < count;
    const float* z = hidden + (long long) (segFirst + row + pass) * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        mtp_store(in, out + i, active ? mtp_load(table, (long long) prev * dim + i, tableType) : 0.0f, inType);
        mtp_store(in, out + dim + i, active ? z[i] : 0.0f, inType);
    }
}
