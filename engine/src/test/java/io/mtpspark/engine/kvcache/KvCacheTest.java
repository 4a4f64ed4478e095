package io.mtpspark.engine.kvcache;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KvCacheTest {

    private static KvCache filled(int rows) {
        KvCache c = new KvCache(2, 3, 16);
        for (int l = 0; l < 2; l++) {
            for (int r = 0; r < rows; r++) {
                for (int d = 0; d < 3; d++) {
                    c.keys(l)[r * 3 + d] = 100 * l + 10 * r + d;
                    c.values(l)[r * 3 + d] = -(100 * l + 10 * r + d);
                }
            }
        }
        c.append(rows);
        return c;
    }

    @Test
    void truncateDropsTheTail() {
        KvCache c = filled(6);
        c.truncate(4);
        assertEquals(4, c.length());
        assertThrows(IllegalArgumentException.class, () -> c.truncate(5));
    }

    @Test
    void compactKeepsChosenRowsOfTheLastBlockInOrder() {
        KvCache c = filled(9); // rows 0..2 committed, block of 6 at 3..8
        c.compact(3, new int[]{0, 2, 5}, 3);
        assertEquals(6, c.length());
        int[] expectedSource = {0, 1, 2, 3, 5, 8};
        for (int l = 0; l < 2; l++) {
            for (int r = 0; r < 6; r++) {
                assertEquals(100 * l + 10 * expectedSource[r], c.keys(l)[r * 3], 0f, "layer " + l + " row " + r);
                assertEquals(-(100 * l + 10 * expectedSource[r] + 2), c.values(l)[r * 3 + 2], 0f);
            }
        }
    }

    @Test
    void compactRejectsUnorderedOrOutOfBlockRows() {
        KvCache c = filled(9);
        assertThrows(IllegalArgumentException.class, () -> c.compact(3, new int[]{2, 1}, 2));
        assertThrows(IllegalArgumentException.class, () -> c.compact(3, new int[]{6}, 1));
    }

    @Test
    void appendPastCapacityFails() {
        KvCache c = filled(10);
        assertThrows(IllegalStateException.class, () -> c.append(7));
    }

    @Test
    void memoryGrowsOnDemandKeepingCommittedRows() {
        KvCache c = new KvCache(2, 3, 1000);
        assertEquals(KvCache.INITIAL_ROWS, c.allocatedRows());
        int rows = 200;
        c.reserve(rows);
        for (int l = 0; l < 2; l++) {
            for (int r = 0; r < rows; r++) {
                c.keys(l)[r * 3] = 1000 * l + r;
                c.values(l)[r * 3 + 2] = -(1000 * l + r);
            }
        }
        c.append(rows);
        c.reserve(rows + 100); // past the first allocation: doubles
        assertEquals(2 * KvCache.INITIAL_ROWS, c.allocatedRows());
        c.reserve(600);
        assertEquals(1000, c.allocatedRows(), "doubling, capped at the capacity");
        KvCache jump = new KvCache(1, 3, 5000);
        jump.reserve(3000);
        assertEquals(3000, jump.allocatedRows(), "a request beyond twice the allocation gets what it asks");
        for (int l = 0; l < 2; l++) {
            for (int r = 0; r < rows; r++) {
                assertEquals(1000 * l + r, c.keys(l)[r * 3], 0f, "key layer " + l + " row " + r);
                assertEquals(-(1000 * l + r), c.values(l)[r * 3 + 2], 0f, "value layer " + l + " row " + r);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> c.reserve(1001));
        KvCache small = new KvCache(1, 3, 8);
        assertThrows(IllegalStateException.class, () -> small.append(9));
    }

    /** The position-major keys stay the transpose of the row-major ones through growth and compaction. */
    @Test
    void positionMajorKeysFollowPutGrowAndCompact() {
        int kvDim = 5;
        KvCache c = new KvCache(2, kvDim, 2000);
        int rows = KvCache.INITIAL_ROWS + 40; // crosses a growth
        float[] row = new float[kvDim];
        for (int r = 0; r < rows; r++) {
            c.reserve(r + 1);
            for (int l = 0; l < 2; l++) {
                for (int d = 0; d < kvDim; d++) {
                    row[d] = 1000 * l + 10 * r + d;
                }
                c.putKey(l, r, row, 0);
            }
            c.append(1);
        }
        assertTransposed(c, kvDim);
        c.compact(rows - 6, new int[]{1, 4, 5}, 3);
        assertEquals(rows - 3, c.length());
        assertTransposed(c, kvDim);
        assertEquals(1000 + 10 * (rows - 2) + 2, c.keysByPosition(1)[2 * c.positionStride() + rows - 5], 0f);
    }

    private static void assertTransposed(KvCache c, int kvDim) {
        for (int l = 0; l < 2; l++) {
            for (int r = 0; r < c.length(); r++) {
                for (int d = 0; d < kvDim; d++) {
                    assertEquals(c.keys(l)[r * kvDim + d], c.keysByPosition(l)[d * c.positionStride() + r], 0f,
                            "layer " + l + " row " + r + " dim " + d);
                }
            }
        }
    }
}
