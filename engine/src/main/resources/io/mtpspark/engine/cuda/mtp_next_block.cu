// The pipelined step: builds the next step's descriptor on the device from this step's verdicts, in place, so the
// host can queue step t + 1 before it reads step t's results. It assumes the steady state of a decoder: every
// sequence runs the same block layout again, advanced past what it accepted (shift = offset of real row 0 + a + 1
// rows and positions), real row 0 holding the bonus token (the token verification wrote for real row a) and real
// rows 1.. the device sampler head's drafts. The host checks that assumption against the block it builds itself and
// discards the queued step when they differ (a stop, a budget, the context limit, a new request), so a wrong guess
// costs one wasted step, never a wrong token. seg/positions/kvRows/tokens/logitRows: the forward's descriptor;
// segLogits, verdict: DeviceVerifier's; argmax: the tokens verification read; drafts: [segments][maxDrafts].
// Launch: grid = segments, block = a multiple of 32.
extern "C" __global__ void mtp_next_block(int* __restrict__ seg, int* __restrict__ positions,
                                          int* __restrict__ kvRows, int* __restrict__ tokens,
                                          const int* __restrict__ logitRows, const int* __restrict__ segLogits,
                                          const int* __restrict__ verdict, const int* __restrict__ argmax,
                                          const int* __restrict__ drafts, int maxDrafts) {
    int s = blockIdx.x;
    int first = segLogits[2 * s];
    int n = segLogits[2 * s + 1];
    if (n <= 0) {
        return;
    }
    int a = verdict[4 * s];
    int shift = verdict[4 * s + 3] + a + 1;
    int segFirst = seg[4 * s];
    int rows = seg[4 * s + 1];
    int bonus = argmax[first + a];
    for (int r = threadIdx.x; r < rows; r += blockDim.x) {
        positions[segFirst + r] += shift;
        kvRows[segFirst + r] += shift;
    }
    for (int g = threadIdx.x; g < n; g += blockDim.x) {
        tokens[logitRows[first + g]] = g == 0 ? bonus : drafts[s * maxDrafts + g - 1];
    }
    if (threadIdx.x == 0) {
        seg[4 * s + 2] += shift;
    }
}
