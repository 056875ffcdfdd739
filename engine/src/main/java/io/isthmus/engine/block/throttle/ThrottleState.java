package io.isthmus.engine.block.throttle;

import static io.isthmus.engine.block.throttle.ThrottleConfig.BPS_READ;
import static io.isthmus.engine.block.throttle.ThrottleConfig.BPS_TOTAL;
import static io.isthmus.engine.block.throttle.ThrottleConfig.BPS_WRITE;
import static io.isthmus.engine.block.throttle.ThrottleConfig.BUCKETS;
import static io.isthmus.engine.block.throttle.ThrottleConfig.OPS_READ;
import static io.isthmus.engine.block.throttle.ThrottleConfig.OPS_TOTAL;
import static io.isthmus.engine.block.throttle.ThrottleConfig.OPS_WRITE;

/**
 * QEMU 7.2's leaky buckets (util/throttle.c), with its arithmetic kept as is (doubles, the same order
 * of operations) so that a user's numbers mean the same thing: each bucket fills with the units a request
 * is accounted for and leaks {@code avg} units per second; a request must wait while a bucket is over its
 * size ({@code max * burst-length}, or {@code avg / 10} without a burst rate), and with a burst length
 * over 1 also while the burst bucket is over {@code max / 10}. Time is in nanoseconds of
 * {@link System#nanoTime}.
 *
 * <p>Not thread-safe: its {@link ThrottleGroup} guards it with the group's lock. Pure arithmetic, no
 * I/O, so it is unit-tested directly.
 */
final class ThrottleState {
    private static final double NANOSECONDS_PER_SECOND = 1e9;
    /** to_check in throttle_compute_wait_for(): per direction, the buckets that gate a request. */
    private static final int[][] TO_CHECK = {
        {BPS_TOTAL, OPS_TOTAL, BPS_READ, OPS_READ},
        {BPS_TOTAL, OPS_TOTAL, BPS_WRITE, OPS_WRITE},
    };
    private static final int[][] SIZE_BUCKETS = {{BPS_TOTAL, BPS_READ}, {BPS_TOTAL, BPS_WRITE}};
    private static final int[][] UNIT_BUCKETS = {{OPS_TOTAL, OPS_READ}, {OPS_TOTAL, OPS_WRITE}};

    ThrottleConfig config = new ThrottleConfig();
    final double[] level = new double[BUCKETS];
    final double[] burstLevel = new double[BUCKETS];
    long previousLeak;

    /** throttle_config(): new limits, empty buckets. */
    void configure(ThrottleConfig c, long now) {
        config = c;
        for (int i = 0; i < BUCKETS; i++) {
            level[i] = 0;
            burstLevel[i] = 0;
        }
        previousLeak = now;
    }

    /** throttle_do_leak(). */
    private void leak(long now) {
        long delta = now - previousLeak;
        previousLeak = now;
        if (delta <= 0) {
            return;
        }
        for (int i = 0; i < BUCKETS; i++) {
            double l = (u(config.avg[i]) * (double) delta) / NANOSECONDS_PER_SECOND;
            level[i] = Math.max(level[i] - l, 0);
            if (Long.compareUnsigned(config.burstLength[i], 1) > 0) {
                l = (u(config.max[i]) * (double) delta) / NANOSECONDS_PER_SECOND;
                burstLevel[i] = Math.max(burstLevel[i] - l, 0);
            }
        }
    }

    /** throttle_compute_wait(): nanoseconds bucket {@code i} makes a request wait, 0 if none. */
    long computeWait(int i) {
        long avg = config.avg[i];
        long max = config.max[i];
        if (avg == 0) {
            return 0;
        }
        double bucketSize;
        double burstBucketSize;
        if (max == 0) {
            bucketSize = u(avg) / 10;
            burstBucketSize = 0;
        } else {
            bucketSize = u(max) * u(config.burstLength[i]);
            burstBucketSize = u(max) / 10;
        }
        double extra = level[i] - bucketSize;
        if (extra > 0) {
            return wait(u(avg), extra);
        }
        if (Long.compareUnsigned(config.burstLength[i], 1) > 0) {
            extra = burstLevel[i] - burstBucketSize;
            if (extra > 0) {
                return wait(u(max), extra);
            }
        }
        return 0;
    }

    /** throttle_do_compute_wait(): C's double-to-int64 conversion truncates. */
    private static long wait(double limit, double extra) {
        double w = extra * NANOSECONDS_PER_SECOND;
        w /= limit;
        return (long) w;
    }

    /**
     * throttle_compute_timer(): leaks up to {@code now}, then returns how long a request of this direction
     * must wait (0: it may go now).
     */
    long computeTimer(int direction, long now) {
        leak(now);
        long maxWait = 0;
        for (int b : TO_CHECK[direction]) {
            long w = computeWait(b);
            if (w > maxWait) {
                maxWait = w;
            }
        }
        return maxWait;
    }

    /** throttle_account(): a request of {@code size} bytes is going ahead. */
    void account(int direction, long size) {
        double units = 1.0;
        double bytes = u(size);
        if (config.opSize != 0 && Long.compareUnsigned(size, config.opSize) > 0) {
            units = bytes / u(config.opSize);
        }
        for (int k = 0; k < 2; k++) {
            int b = SIZE_BUCKETS[direction][k];
            level[b] += bytes;
            if (Long.compareUnsigned(config.burstLength[b], 1) > 0) {
                burstLevel[b] += bytes;
            }
            b = UNIT_BUCKETS[direction][k];
            level[b] += units;
            if (Long.compareUnsigned(config.burstLength[b], 1) > 0) {
                burstLevel[b] += units;
            }
        }
    }

    /** A uint64_t as C converts it to double. */
    private static double u(long v) {
        return v >= 0 ? (double) v : (double) (v >>> 1) * 2.0 + (v & 1);
    }
}
