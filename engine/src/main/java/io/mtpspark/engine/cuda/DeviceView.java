package io.mtpspark.engine.cuda;

import org.bytedeco.javacpp.FloatPointer;

/**
 * A reusable {@link FloatPointer} aimed at an arbitrary device address (a buffer plus an offset), so cuBLAS and
 * {@code cudaMemcpyAsync} calls take device pointers without allocating a Java wrapper per call. JavaCPP adds
 * {@code position} to the address it passes; it is kept at zero and offsets are folded into the address instead.
 * It owns nothing and is never dereferenced on the host.
 */
final class DeviceView extends FloatPointer {

    DeviceView at(long deviceAddress) {
        this.address = deviceAddress;
        this.position = 0;
        this.limit = 0;
        this.capacity = 0;
        return this;
    }
}
