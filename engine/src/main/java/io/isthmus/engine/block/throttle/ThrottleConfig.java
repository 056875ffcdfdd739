package io.isthmus.engine.block.throttle;

import java.util.Arrays;

/**
 * The limits of a throttle group, as QEMU's {@code ThrottleConfig} (include/qemu/throttle.h): six leaky
 * buckets (bytes and operations; total, read, write), each with a rate ({@code avg}, per second), a burst
 * rate ({@code max}) and a burst length in seconds, plus {@code iops-size}. Values are QEMU's uint64_t:
 * a negative {@code long} stands for 2^64 + v, as when QEMU stores a negative QAPI int in its unsigned
 * fields, and is compared unsigned.
 *
 * <p>A plain mutable value: the control plane builds one, {@link #validate validates} it and hands a
 * copy to {@link ThrottleGroup#configure}; never shared mutable between threads.
 */
public final class ThrottleConfig {
    /** QEMU's BucketType order (the order {@link #validate} checks them in). */
    public static final int BPS_TOTAL = 0, BPS_READ = 1, BPS_WRITE = 2, OPS_TOTAL = 3, OPS_READ = 4, OPS_WRITE = 5;
    public static final int BUCKETS = 6;
    /** THROTTLE_VALUE_MAX. */
    public static final long VALUE_MAX = 1_000_000_000_000_000L;
    /** UINT_MAX, the range of a burst length given through QAPI. */
    public static final long BURST_LENGTH_LIMIT = 0xFFFF_FFFFL;

    final long[] avg = new long[BUCKETS];
    final long[] max = new long[BUCKETS];
    final long[] burstLength = new long[BUCKETS];
    long opSize;

    /** QEMU's throttle_config_init(): no limits, every burst length 1. */
    public ThrottleConfig() {
        Arrays.fill(burstLength, 1);
    }

    public ThrottleConfig copy() {
        ThrottleConfig c = new ThrottleConfig();
        System.arraycopy(avg, 0, c.avg, 0, BUCKETS);
        System.arraycopy(max, 0, c.max, 0, BUCKETS);
        System.arraycopy(burstLength, 0, c.burstLength, 0, BUCKETS);
        c.opSize = opSize;
        return c;
    }

    public long avg(int bucket) {
        return avg[bucket];
    }

    public long max(int bucket) {
        return max[bucket];
    }

    public long burstLength(int bucket) {
        return burstLength[bucket];
    }

    public long opSize() {
        return opSize;
    }

    public void setAvg(int bucket, long v) {
        avg[bucket] = v;
    }

    public void setMax(int bucket, long v) {
        max[bucket] = v;
    }

    public void setBurstLength(int bucket, long v) {
        burstLength[bucket] = v;
    }

    public void setOpSize(long v) {
        opSize = v;
    }

    /** throttle_enabled(): any bucket has a rate. */
    public boolean enabled() {
        for (long a : avg) {
            if (a != 0) {
                return true;
            }
        }
        return false;
    }

    /** QEMU 7.2's throttle_is_valid(): null when valid, else QEMU's error text. */
    public String validate() {
        boolean bps = avg[BPS_TOTAL] != 0 && (avg[BPS_READ] != 0 || avg[BPS_WRITE] != 0);
        boolean ops = avg[OPS_TOTAL] != 0 && (avg[OPS_READ] != 0 || avg[OPS_WRITE] != 0);
        boolean bpsMax = max[BPS_TOTAL] != 0 && (max[BPS_READ] != 0 || max[BPS_WRITE] != 0);
        boolean opsMax = max[OPS_TOTAL] != 0 && (max[OPS_READ] != 0 || max[OPS_WRITE] != 0);
        if (bps || ops || bpsMax || opsMax) {
            return "bps/iops/max total values and read/write values cannot be used at the same time";
        }
        if (opSize != 0 && avg[OPS_TOTAL] == 0 && avg[OPS_READ] == 0 && avg[OPS_WRITE] == 0) {
            return "iops size requires an iops value to be set";
        }
        for (int i = 0; i < BUCKETS; i++) {
            if (Long.compareUnsigned(avg[i], VALUE_MAX) > 0 || Long.compareUnsigned(max[i], VALUE_MAX) > 0) {
                return "bps/iops/max values must be within [0, " + VALUE_MAX + "]";
            }
            if (burstLength[i] == 0) {
                return "the burst length cannot be 0";
            }
            if (Long.compareUnsigned(burstLength[i], 1) > 0 && max[i] == 0) {
                return "burst length set without burst rate";
            }
            if (max[i] != 0 && Long.compareUnsigned(burstLength[i], Long.divideUnsigned(VALUE_MAX, max[i])) > 0) {
                return "burst length too high for this burst rate";
            }
            if (max[i] != 0 && avg[i] == 0) {
                return "bps_max/iops_max require corresponding bps/iops values";
            }
            if (max[i] != 0 && Long.compareUnsigned(max[i], avg[i]) < 0) {
                return "bps_max/iops_max cannot be lower than bps/iops";
            }
        }
        return null;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ThrottleConfig c && Arrays.equals(avg, c.avg) && Arrays.equals(max, c.max)
                && Arrays.equals(burstLength, c.burstLength) && opSize == c.opSize;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(avg) * 31 + Arrays.hashCode(max) * 17 + Arrays.hashCode(burstLength) + Long.hashCode(opSize);
    }
}
