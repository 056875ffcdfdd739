package io.isthmus.control.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A sequence of qemu-io commands (pattern writes, zero writes, discards) and a model of what the disk
 * holds after them: a piecewise-constant byte map, from which {@link #reads} derives the {@code read -P}
 * commands that must all pass. Discards must be cluster-aligned (qcow2 ignores the unaligned head and
 * tail of a discard, a raw file zeroes them); the model reads a discarded range as zeroes, which is what
 * QEMU's qcow2 does without a backing file and on a version 3 image with one.
 */
final class Qcow2Ops {
    /** Reads of a run longer than this check its first and last {@link #EDGE} bytes only. */
    private static final long LONG_RUN = 4L << 20;
    private static final long EDGE = 1L << 20;

    private final long size;
    /** Start of each run -> its byte value; a run ends where the next begins (the last at size). */
    private final TreeMap<Long, Integer> runs = new TreeMap<>();
    private final List<String> commands = new ArrayList<>();

    Qcow2Ops(long size) {
        this.size = size;
        runs.put(0L, 0);
    }

    long size() {
        return size;
    }

    Qcow2Ops write(int pattern, long offset, long length) {
        commands.add(String.format("write -P 0x%02x %d %d", pattern, offset, length));
        set(offset, length, pattern);
        return this;
    }

    /** {@code write -z} (with {@code -u}: the server may unmap). */
    Qcow2Ops zero(long offset, long length, boolean mayUnmap) {
        commands.add("write -z " + (mayUnmap ? "-u " : "") + offset + " " + length);
        set(offset, length, 0);
        return this;
    }

    Qcow2Ops discard(long offset, long length) {
        commands.add("discard " + offset + " " + length);
        set(offset, length, 0);
        return this;
    }

    /** The commands added since the last call (the model keeps everything). */
    List<String> take() {
        List<String> c = List.copyOf(commands);
        commands.clear();
        return c;
    }

    /** {@code read -P} commands covering the whole disk (long runs at their edges). */
    List<String> reads() {
        List<String> out = new ArrayList<>();
        List<Map.Entry<Long, Integer>> list = new ArrayList<>(runs.entrySet());
        for (int i = 0; i < list.size(); i++) {
            long start = list.get(i).getKey();
            long end = i + 1 < list.size() ? list.get(i + 1).getKey() : size;
            int p = list.get(i).getValue();
            if (end - start > LONG_RUN) {
                out.add(read(p, start, EDGE));
                out.add(read(p, end - EDGE, EDGE));
            } else {
                out.add(read(p, start, end - start));
            }
        }
        return out;
    }

    private static String read(int pattern, long offset, long length) {
        return String.format("read -P 0x%02x %d %d", pattern, offset, length);
    }

    private void set(long offset, long length, int value) {
        if (offset < 0 || length <= 0 || offset + length > size) {
            throw new IllegalArgumentException("outside the disk: " + offset + "+" + length + " of " + size);
        }
        long end = offset + length;
        int after = runs.floorEntry(end).getValue();
        runs.subMap(offset, true, end, true).clear();
        runs.put(offset, value);
        if (end < size) {
            runs.put(end, after);
        }
        // merge neighbours of one value so the reads stay few
        Map.Entry<Long, Integer> before = runs.lowerEntry(offset);
        if (before != null && before.getValue() == value) {
            runs.remove(offset);
        }
        Map.Entry<Long, Integer> next = runs.higherEntry(offset);
        if (next != null && next.getKey() == end && next.getValue() == value) {
            runs.remove(end);
        }
    }
}
