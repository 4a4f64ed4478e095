// Row gather in 16-bit units, so one kernel serves BF16 rows (units = width) and F32 rows (units = 2 * width):
// dst row j = src row index[j]. Gathers the gated rows' inputs for the LoRA branch.
// Launch: grid = count, block = any multiple of 32.
extern "C" __global__ void gather16(unsigned short* __restrict__ dst, const unsigned short* __restrict__ src,
                                    const int* __restrict__ index, int count, int units) {
    int j = blockIdx.x;
    if (j >= count) {
        return;
    }
    const unsigned short* s = src + (long long) index[j] * units;
    unsigned short* d = dst + (long long) j * units;
    for (int i = threadIdx.x; i < units; i += blockDim.x) {
        d[i] = s[i];
    }
}
