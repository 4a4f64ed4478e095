package io.mtpspark.engine.safetensors;

/** One tensor's entry in a safetensors header: dtype, shape and byte range relative to the data section. */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
