package io.isthmus.engine.block.throttle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** QEMU's leaky-bucket arithmetic (util/throttle.c) and throttle_is_valid(), without threads or timers. */
class ThrottleStateTest {
    private static final int R = ThrottleGroup.READ;
    private static final int W = ThrottleGroup.WRITE;

    private static ThrottleState state(ThrottleConfig c) {
        ThrottleState s = new ThrottleState();
        s.configure(c, 0);
        return s;
    }

    @Test
    void withoutBurstRateTheBucketHoldsATenthOfASecond() {
        ThrottleConfig c = new ThrottleConfig();
        c.setAvg(ThrottleConfig.OPS_TOTAL, 100);
        ThrottleState s = state(c);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, s.computeTimer(R, 0));
            s.account(R, 4096);
        }
        assertEquals(0, s.computeTimer(R, 0)); // level 10 = avg / 10: not over
        s.account(R, 4096);
        assertEquals(10_000_000, s.computeTimer(W, 0)); // 1 unit over at 100/s: 10 ms (total bucket gates writes too)
        assertEquals(0, s.computeTimer(R, 10_000_000)); // leaked
    }

    @Test
    void burstBucketGatesAtMaxWhileTheMainBucketFills() {
        ThrottleConfig c = new ThrottleConfig();
        c.setAvg(ThrottleConfig.OPS_READ, 10);
        c.setMax(ThrottleConfig.OPS_READ, 100);
        c.setBurstLength(ThrottleConfig.OPS_READ, 2);
        ThrottleState s = state(c);
        for (int i = 0; i < 11; i++) {
            s.account(R, 512);
        }
        assertEquals(10_000_000, s.computeTimer(R, 0)); // burst level 11 > max/10: 1 unit at 100/s
        assertEquals(0, s.computeTimer(W, 0)); // the read bucket does not gate writes
    }

    @Test
    void iopsSizeCountsLargeRequestsAsSeveral() {
        ThrottleConfig c = new ThrottleConfig();
        c.setAvg(ThrottleConfig.OPS_TOTAL, 10);
        c.setOpSize(4096);
        ThrottleState s = state(c);
        s.account(W, 16384);
        assertEquals(4.0, s.level[ThrottleConfig.OPS_TOTAL]);
        assertEquals(4.0, s.level[ThrottleConfig.OPS_WRITE]);
        assertEquals(16384.0, s.level[ThrottleConfig.BPS_TOTAL]);
        s.account(W, 100);
        assertEquals(5.0, s.level[ThrottleConfig.OPS_TOTAL]); // smaller than iops-size: one
    }

    @Test
    void bytesPerSecond() {
        ThrottleConfig c = new ThrottleConfig();
        c.setAvg(ThrottleConfig.BPS_WRITE, 1 << 20);
        ThrottleState s = state(c);
        s.account(W, 1 << 20); // a request larger than the bucket goes, then the next waits for it
        long wait = s.computeTimer(W, 0);
        assertEquals((long) ((1048576 - 104857.6) * 1e9 / 1048576), wait);
    }

    @Test
    void validation() {
        ThrottleConfig c = new ThrottleConfig();
        assertNull(c.validate());
        c.setAvg(ThrottleConfig.BPS_TOTAL, 1);
        c.setAvg(ThrottleConfig.BPS_READ, 1);
        assertEquals("bps/iops/max total values and read/write values cannot be used at the same time", c.validate());
        c = new ThrottleConfig();
        c.setAvg(ThrottleConfig.OPS_WRITE, -1);
        assertEquals("bps/iops/max values must be within [0, 1000000000000000]", c.validate());
        c = new ThrottleConfig();
        c.setAvg(ThrottleConfig.OPS_WRITE, 10);
        c.setMax(ThrottleConfig.OPS_WRITE, 100);
        c.setBurstLength(ThrottleConfig.OPS_WRITE, -1);
        assertEquals("burst length too high for this burst rate", c.validate());
        c.setBurstLength(ThrottleConfig.OPS_WRITE, 0);
        assertEquals("the burst length cannot be 0", c.validate());
    }
}
