package io.isthmus.control.json;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The order in which QEMU's QDict iterates its members, so output is byte-identical to QEMU's.
 *
 * <p>A QDict is a 512-bucket hash table (tdb_hash of the key); iteration walks buckets in index order,
 * and inside a bucket the newest member first. Given members in insertion order (our value model keeps
 * it), this reproduces e.g. {@code {"return": ..., "id": ...}}, {@code {"id": ..., "error": ...}} and
 * {@code {"micro": 22, "minor": 2, "major": 7}}.
 */
public final class QDictOrder {
    private static final int BUCKETS = 512;

    private QDictOrder() {
    }

    static int bucket(String key) {
        byte[] b = key.getBytes(StandardCharsets.UTF_8);
        int value = 0x238F13AF * b.length;
        for (int i = 0; i < b.length; i++) {
            value += (b[i] & 0xFF) << (i * 5 % 24);
        }
        int h = 1103515243 * value + 12345;
        return (int) (Integer.toUnsignedLong(h) % BUCKETS);
    }

    /** The map's entries in QDict iteration order. */
    public static <V> List<Map.Entry<String, V>> entries(Map<String, V> map) {
        List<Map.Entry<String, V>> list = new ArrayList<>(map.entrySet());
        int n = list.size();
        if (n < 2) {
            return list;
        }
        int[] buckets = new int[n];
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) {
            buckets[i] = bucket(list.get(i).getKey());
            idx[i] = i;
        }
        java.util.Arrays.sort(idx, (a, b) -> buckets[a] != buckets[b]
                ? Integer.compare(buckets[a], buckets[b]) : Integer.compare(b, a));
        List<Map.Entry<String, V>> out = new ArrayList<>(n);
        for (Integer i : idx) {
            out.add(list.get(i));
        }
        return out;
    }
}
