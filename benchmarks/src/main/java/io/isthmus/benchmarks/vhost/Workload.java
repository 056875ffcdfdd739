package io.isthmus.benchmarks.vhost;

/**
 * What one queue's requests look like: read or write, random or sequential offsets of {@code bs}-byte blocks
 * inside the queue's range, an optional count of I/Os, and whether data is written with (or checked against)
 * the {@link Pattern}. Random offsets come from a xorshift64* generator seeded per queue, so a run is
 * repeatable; sequential offsets walk the queue's own part of the device (queue {@code q} of {@code n} gets the
 * {@code q}-th n-th) and wrap.
 *
 * <p>Thread use: one queue's worker thread. No native memory.
 */
final class Workload {
    private final boolean write;
    private final boolean random;
    private final int bs;
    private final long firstBlock;
    private final long blocks;
    private final long limit;
    final boolean verify;
    private long cursor;
    private long rng;

    /**
     * @param rw randread, randwrite, read or write
     * @param size bytes of the device used (a multiple of {@code bs})
     * @param limit I/Os this queue submits, or -1 for no limit (the run's time decides)
     */
    Workload(String rw, int bs, long size, int queue, int queues, long limit, boolean verify) {
        this.write = rw.equals("randwrite") || rw.equals("write");
        this.random = rw.startsWith("rand");
        this.bs = bs;
        long all = size / bs;
        if (random) {
            firstBlock = 0;
            blocks = all;
        } else {
            firstBlock = all * queue / queues;
            blocks = Math.max(1, all * (queue + 1) / queues - firstBlock);
        }
        this.limit = limit;
        this.verify = verify;
        this.rng = 0x9E3779B97F4A7C15L * (queue + 1) | 1;
    }

    static boolean validRw(String rw) {
        return switch (rw) {
            case "randread", "randwrite", "read", "write" -> true;
            default -> false;
        };
    }

    boolean write() {
        return write;
    }

    boolean more(long submitted) {
        return limit < 0 || submitted < limit;
    }

    long nextOffset() {
        long block;
        if (random) {
            rng ^= rng >>> 12;
            rng ^= rng << 25;
            rng ^= rng >>> 27;
            block = Long.remainderUnsigned(rng * 0x2545F4914F6CDD1DL, blocks);
        } else {
            block = firstBlock + cursor;
            cursor = cursor + 1 == blocks ? 0 : cursor + 1;
        }
        return block * bs;
    }
}
