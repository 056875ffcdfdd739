package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** The packed 64-bit stores of IoUringPrep put every value in its named SQE field and clear the rest. */
class IoUringPrepTest {
    private static long off(String f) {
        return LinuxIoUring.io_uring_sqe.byteOffset(PathElement.groupElement(f));
    }

    @Test
    void fieldsLandWhereTheLayoutSays() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sqes = a.allocate(LinuxIoUring.io_uring_sqe, 2);
            sqes.fill((byte) 0xff); // a reused entry full of garbage
            long base = LinuxIoUring.SQE_SIZE;
            long sqe = sqes.address() + base;
            IoUringPrep.prepReadFixed(sqe, -7, 0x1122334455667788L, 4096, 0x0102030405060708L, 513);
            IoUringPrep.setOpFlags(sqe, 0x40);
            IoUringPrep.setUserData(sqe, 99);
            assertEquals(LinuxIoUring.IORING_OP_READ_FIXED, sqes.get(JAVA_BYTE, base + off("opcode")));
            assertEquals(0, sqes.get(JAVA_BYTE, base + off("flags")));
            assertEquals(0, sqes.get(JAVA_SHORT, base + off("ioprio")));
            assertEquals(-7, sqes.get(JAVA_INT, base + off("fd")));
            assertEquals(0x0102030405060708L, sqes.get(JAVA_LONG, base + off("off")));
            assertEquals(0x1122334455667788L, sqes.get(JAVA_LONG, base + off("addr")));
            assertEquals(4096, sqes.get(JAVA_INT, base + off("len")));
            assertEquals(0x40, sqes.get(JAVA_INT, base + off("rw_flags")));
            assertEquals(99, sqes.get(JAVA_LONG, base + off("user_data")));
            assertEquals(513, sqes.get(JAVA_SHORT, base + off("buf_index")));
            assertEquals(0, sqes.get(JAVA_SHORT, base + off("personality")));
            assertEquals(0, sqes.get(JAVA_INT, base + off("splice_fd_in")));
            assertEquals(0, sqes.get(JAVA_LONG, base + off("addr3")));
            assertEquals(0, sqes.get(JAVA_LONG, base + off("__pad2")));
            assertEquals(-1L, sqes.get(JAVA_LONG, 0), "the neighbouring entry is untouched");
            assertEquals(-1L, sqes.get(JAVA_LONG, 56));
            IoUringPrep.setFlags(sqe, LinuxIoUring.IOSQE_IO_LINK);
            assertEquals(LinuxIoUring.IOSQE_IO_LINK, sqes.get(JAVA_BYTE, base + off("flags")));
            assertEquals(LinuxIoUring.IORING_OP_READ_FIXED, sqes.get(JAVA_BYTE, base + off("opcode")));
        }
    }
}
