// Row gather: dst row j = src row index[j]. Used for the gated rows' LoRA inputs and for the rows whose logits are
// asked for. Launch: grid = count, block = any multiple of 32.
extern "C" __global__ void gather_rows(float* __restrict__ dst, const float* __restrict__ src,
                                       const int* __restrict__ index, int count, int dim) {
    int j = blockIdx.x;
    if (j >= count) {
        return;
    }
    const float* s = src + (long long) index[j] * dim;
    float* d = dst + (long long) j * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        d[i] = s[i];
    }
}
