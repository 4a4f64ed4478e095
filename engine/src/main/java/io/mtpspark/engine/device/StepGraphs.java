package io.mtpspark.engine.device;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CUDA graphs of the device forward's step, one per padded step shape (row-count buckets: rows, sequences, longest
 * block, logit rows, gated rows, draft passes). A shape seen for the first time runs eagerly (the warm-up: cuBLAS and
 * the driver allocate lazily, which capture forbids); the second time it is captured and the graph launched; from
 * then on the graph is replayed. Replay repeats the captured launches with the argument values they were captured
 * with, so everything that changes between steps of one shape must be read by the kernels from the step descriptor
 * (which the host uploads before each launch). Nothing is allocated per step once a shape is known.
 */
final class StepGraphs {
    private final DeviceApi d;
    private final List<int[]> shapes = new ArrayList<>();
    private long[] graphs = new long[8];
    private long[] launches = new long[8];
    private int captured;
    private int replayed;

    StepGraphs(DeviceApi d) {
        this.d = d;
    }

    /**
     * Queues the step of {@code shape}: {@code enqueue} eagerly, or captured, or the shape's graph. Returns the
     * launches the step queued (counted by {@code enqueue} when it runs, remembered for replays).
     */
    long run(int[] shape, StepEnqueue enqueue) {
        int i = indexOf(shape);
        if (i < 0) {
            long n = enqueue.enqueue(); // warm-up, eager
            i = shapes.size();
            if (i == graphs.length) {
                graphs = Arrays.copyOf(graphs, 2 * i);
                launches = Arrays.copyOf(launches, 2 * i);
            }
            shapes.add(shape.clone());
            graphs[i] = 0;
            launches[i] = n;
            return n;
        }
        if (graphs[i] == 0) {
            d.beginCapture();
            long n;
            try {
                n = enqueue.enqueue();
            } catch (RuntimeException e) {
                try {
                    d.destroyGraph(d.endCapture());
                } catch (RuntimeException ignored) {
                    // the capture is invalid anyway; the enqueue's error is the one to report
                }
                throw e;
            }
            graphs[i] = d.endCapture();
            launches[i] = n;
            captured++;
        } else {
            replayed++;
        }
        d.launchGraph(graphs[i]);
        return launches[i];
    }

    private int indexOf(int[] shape) {
        for (int i = 0; i < shapes.size(); i++) {
            if (Arrays.equals(shapes.get(i), shape)) {
                return i;
            }
        }
        return -1;
    }

    /** Graphs captured so far. */
    int captured() {
        return captured;
    }

    /** Steps that replayed a graph captured earlier. */
    int replayed() {
        return replayed;
    }

    /** Destroys every graph (the pointers they captured are about to change: new scratch, adapter, verifier). */
    void clear() {
        for (int i = 0; i < shapes.size(); i++) {
            if (graphs[i] != 0) {
                d.destroyGraph(graphs[i]);
            }
        }
        shapes.clear();
    }

    /** The step's launches; returns how many it queued. */
    @FunctionalInterface
    interface StepEnqueue {
        long enqueue();
    }
}
