package io.isthmus.engine.uring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.bindings.Errno;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class RingTest {
    private static final String P = "io_uring is not available: io_uring_setup failed: ";

    @Test
    void eachRefusalIsOneLineNamingItsCause() {
        assertEquals(P + "Operation not permitted (disabled by the sysctl kernel.io_uring_disabled=2)",
                Ring.unavailableReason(-Errno.EPERM, "2\n", "0"));
        assertEquals(P + "Operation not permitted (blocked by a seccomp filter, e.g. a container's default profile)",
                Ring.unavailableReason(-Errno.EPERM, "0\n", "2"));
        assertEquals(P + "Operation not permitted (not permitted: a seccomp filter or a security module refuses "
                + "io_uring)", Ring.unavailableReason(-Errno.EPERM, null, null));
        assertEquals(P + "Function not implemented (the kernel was built without io_uring: CONFIG_IO_URING)",
                Ring.unavailableReason(-Errno.ENOSYS, null, "0"));
        assertEquals(P + "Function not implemented (blocked by a seccomp filter, or the kernel was built without "
                + "io_uring)", Ring.unavailableReason(-Errno.ENOSYS, null, "2"));
        assertEquals(P + "Cannot allocate memory (locked-memory limit too low: raise ulimit -l)",
                Ring.unavailableReason(-Errno.ENOMEM, "0", "0"));
        assertEquals(P + "Too many open files (no file descriptors left)",
                Ring.unavailableReason(-Errno.EMFILE, "0", "0"));
        assertEquals(P + "Invalid argument", Ring.unavailableReason(-Errno.EINVAL, "0", "0"));
        for (int e : new int[] {Errno.EPERM, Errno.ENOSYS, Errno.ENOMEM, Errno.EINVAL}) {
            assertFalse(Ring.unavailableReason(-e).contains("\n"), "one line");
        }
    }

    @Test
    void ringSetsUpAndNopsRoundTrip() {
        try (Ring r = Ring.create(8, 16)) {
            assertTrue(r.sqEntries() >= 8);
            for (int i = 0; i < 3; i++) {
                long sqe = r.nextSqe();
                assertTrue(sqe >= r.sqes().address() && sqe < r.sqes().address() + r.sqes().byteSize());
                io.isthmus.bindings.IoUringPrep.prepNop(sqe);
                io.isthmus.bindings.IoUringPrep.setUserData(sqe, 100 + i);
            }
            assertEquals(3, r.pending());
            assertEquals(3, r.enter(3, 0));
            assertEquals(3, r.cqReady());
            for (int i = 0; i < 3; i++) {
                assertEquals(100 + i, r.cqeUserData(i));
                assertEquals(0, r.cqeRes(i));
            }
            r.cqAdvance(3);
            assertEquals(0, r.cqReady());
            // the SQ refuses more than it holds until submitted
            int n = 0;
            while (r.nextSqe() != 0) {
                n++;
            }
            assertEquals(r.sqEntries(), n);
        }
    }
}
