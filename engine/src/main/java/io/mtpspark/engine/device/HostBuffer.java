package io.mtpspark.engine.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Host memory a device copies from and to: a little-endian direct {@link ByteBuffer}, page-locked on a GPU
 * ({@code cudaMallocHost}) so copies are true DMA transfers, plain direct memory in the emulator. Closing releases
 * it through the device that made it.
 */
public final class HostBuffer implements AutoCloseable {
    private final ByteBuffer bytes;
    private final long address;
    private final Runnable release;
    private boolean closed;

    public HostBuffer(ByteBuffer bytes, long address, Runnable release) {
        this.bytes = bytes.order(ByteOrder.LITTLE_ENDIAN);
        this.address = address;
        this.release = release;
    }

    /** The memory, little-endian; absolute gets/puts only (position is the caller's business). */
    public ByteBuffer bytes() {
        return bytes;
    }

    /** Native address of byte 0 (0 where the device does not need one). */
    public long address() {
        return address;
    }

    public long capacity() {
        return bytes.capacity();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            release.run();
        }
    }
}
