package io.mtpspark.engine.cuda;

import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * Test-side access to single kernels: device arrays from host arrays and back (synchronous copies), and launches by
 * entry name through the same {@link KernelModule} the backend uses. GPU only; the caller checks detection first.
 */
final class DeviceHarness implements KernelDevice {
    private final CUstream_st stream = new CUstream_st();
    private final KernelModule kernels;
    private final List<Long> allocations = new ArrayList<>();
    private final KernelArgs args = new KernelArgs(16);
    private TestArgs pending = new TestArgs();
    private final DeviceView view = new DeviceView();

    DeviceHarness() {
        GpuStatus gpu = GpuDetector.detect();
        CudaErrors.checkRuntime(cudart.cudaSetDevice(0), "cudaSetDevice");
        CudaErrors.checkRuntime(cudart.cudaStreamCreate(stream), "cudaStreamCreate");
        kernels = new KernelModule(gpu.computeArch());
    }

    private long alloc(long bytes) {
        Pointer p = new Pointer();
        CudaErrors.checkRuntime(cudart.cudaMalloc(p, Math.max(bytes, 4)), "cudaMalloc");
        allocations.add(p.address());
        return p.address();
    }

    @Override
    public long floats(float[] a) {
        long d = alloc((long) a.length * Float.BYTES);
        CudaErrors.checkRuntime(cudart.cudaMemcpy(view.at(d), new FloatPointer(a), (long) a.length * Float.BYTES,
                cudart.cudaMemcpyHostToDevice), "cudaMemcpy");
        return d;
    }

    @Override
    public long ints(int[] a) {
        long d = alloc((long) a.length * Integer.BYTES);
        CudaErrors.checkRuntime(cudart.cudaMemcpy(view.at(d), new IntPointer(a), (long) a.length * Integer.BYTES,
                cudart.cudaMemcpyHostToDevice), "cudaMemcpy");
        return d;
    }

    @Override
    public long bytes(boolean[] a) {
        byte[] b = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = (byte) (a[i] ? 1 : 0);
        }
        long d = alloc(b.length);
        CudaErrors.checkRuntime(cudart.cudaMemcpy(view.at(d), new BytePointer(b), b.length,
                cudart.cudaMemcpyHostToDevice), "cudaMemcpy");
        return d;
    }

    @Override
    public float[] readFloats(long d, int n) {
        sync();
        FloatPointer h = new FloatPointer(n);
        CudaErrors.checkRuntime(cudart.cudaMemcpy(h, view.at(d), (long) n * Float.BYTES,
                cudart.cudaMemcpyDeviceToHost), "cudaMemcpy");
        float[] out = new float[n];
        h.get(out);
        return out;
    }

    @Override
    public int[] readInts(long d, int n) {
        sync();
        IntPointer h = new IntPointer(n);
        CudaErrors.checkRuntime(cudart.cudaMemcpy(h, view.at(d), (long) n * Integer.BYTES,
                cudart.cudaMemcpyDeviceToHost), "cudaMemcpy");
        int[] out = new int[n];
        h.get(out);
        return out;
    }

    @Override
    public TestArgs args() {
        pending = new TestArgs();
        return pending;
    }

    @Override
    public void launch(String entry, int gridX, int gridY, int block) {
        args.reset();
        for (TestArgs.Value v : pending.values) {
            switch (v.type()) {
                case BUFFER -> args.ptr(v.bits());
                case INT -> args.i32((int) v.bits());
                case FLOAT -> args.f32(Float.intBitsToFloat((int) v.bits()));
                case LONG -> args.i64(v.bits());
            }
        }
        kernels.launch(entry, gridX, gridY, block, stream, args);
        sync();
    }

    private void sync() {
        CudaErrors.checkRuntime(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        CudaErrors.checkRuntime(cudart.cudaGetLastError(), "kernel");
    }

    @Override
    public void close() {
        for (long a : allocations) {
            cudart.cudaFree(view.at(a));
        }
        kernels.close();
        cudart.cudaStreamDestroy(stream);
    }
}
