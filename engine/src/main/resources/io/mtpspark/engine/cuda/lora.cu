// Gated-LoRA add: out row gatedRows[j] += scaling * branch row j, for the gated rows only. Ungated rows are never
// touched, so they stay bit-for-bit the plain model's (a select, never a multiply by a zero gate).
// branch is [count][outDim], the LoRA up-projection of the gathered gated inputs.
// Launch: grid = count, block = any multiple of 32.
extern "C" __global__ void lora_add_gated(float* out, const float* __restrict__ branch,
                                          const int* __restrict__ gatedRows, int count, int outDim, float scaling) {
    int j = blockIdx.x;
    if (j >= count) {
        return;
    }
    float* o = out + (long long) gatedRows[j] * outDim;
    const float* b = branch + (long long) j * outDim;
    for (int i = threadIdx.x; i < outDim; i += blockDim.x) {
        o[i] += scaling * b[i];
    }
}
