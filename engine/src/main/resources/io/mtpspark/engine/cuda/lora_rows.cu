// Gated-LoRA add of the device forward: out row gatedRows[j], columns colOffset .. colOffset + outDim of a row of
// rowStride floats, += scaling * branch row j. Only gated rows are touched (a select, never a multiply by a zero
// gate), so ungated rows stay bit-for-bit the plain model's. Launch: grid = count, block = any multiple of 32.
extern "C" __global__ void lora_rows(float* out, const float* __restrict__ branch, const int* __restrict__ gatedRows,
                                     int count, int outDim, int rowStride, int colOffset, float scaling) {
    int j = blockIdx.x;
    if (j >= count) {
        return;
    }
    float* o = out + (long long) gatedRows[j] * rowStride + colOffset;
    const float* b = branch + (long long) j * outDim;
    for (int i = threadIdx.x; i < outDim; i += blockDim.x) {
        o[i] += scaling * b[i];
    }
}
