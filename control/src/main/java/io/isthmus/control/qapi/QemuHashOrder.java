package io.isthmus.control.qapi;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The iteration orders QEMU 7.2 exposes through hash tables, computed exactly:
 * <ul>
 * <li>{@link #qdictOrder}: how a QDict (QEMU's JSON object, 512 buckets keyed by {@code tdb_hash},
 * newest entry first in each bucket) iterates its keys;</li>
 * <li>{@link #firstRemaining}: which key glib's {@code GHashTable} (2.74, string keys) yields first
 * after the keys were inserted in QDict order and the visited ones removed. QEMU's input visitor
 * reports exactly that key as {@code Parameter '...' is unexpected} when several are.</li>
 * </ul>
 * Pure computation, no state; usable from any thread.
 */
public final class QemuHashOrder {
    private static final int QDICT_BUCKETS = 512;
    private static final int MIN_SHIFT = 3;
    private static final int[] PRIME_MOD = {
        1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521,
        131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393,
        67108859, 134217689, 268435399, 536870909, 1073741789, 2147483647,
    };

    private QemuHashOrder() {}

    /** QEMU's {@code tdb_hash} as used by QDict. */
    static int tdbHash(String key) {
        byte[] b = key.getBytes(StandardCharsets.UTF_8);
        int value = 0x238F13AF * b.length;
        for (int i = 0; i < b.length; i++) {
            value = value + ((b[i] & 0xff) << (i * 5 % 24));
        }
        return 1103515243 * value + 12345;
    }

    /** glib's {@code g_str_hash} (djb2 over signed chars). */
    static int gStrHash(String key) {
        int h = 5381;
        for (byte c : key.getBytes(StandardCharsets.UTF_8)) {
            h = (h << 5) + h + c;
        }
        return h;
    }

    /** The order in which a QDict built by inserting {@code keys} (distinct, in order) iterates. */
    public static List<String> qdictOrder(Collection<String> keys) {
        @SuppressWarnings("unchecked")
        List<String>[] buckets = new List[QDICT_BUCKETS];
        for (String k : keys) {
            int b = Integer.remainderUnsigned(tdbHash(k), QDICT_BUCKETS);
            if (buckets[b] == null) {
                buckets[b] = new ArrayList<>(2);
            }
            buckets[b].add(0, k);
        }
        List<String> out = new ArrayList<>(keys.size());
        for (List<String> bucket : buckets) {
            if (bucket != null) {
                out.addAll(bucket);
            }
        }
        return out;
    }

    /**
     * Inserts {@code inserted} (in that order) into a GHashTable, removes {@code removed} (in that
     * order) and returns the first key an iterator yields, or null if none is left.
     */
    public static String firstRemaining(List<String> inserted, List<String> removed) {
        GHashSim h = new GHashSim();
        for (String k : inserted) {
            h.insert(k);
        }
        for (String k : removed) {
            h.remove(k);
        }
        for (int i = 0; i < h.size; i++) {
            if (GHashSim.isReal(h.hashes[i])) {
                return h.keys[i];
            }
        }
        return null;
    }

    /**
     * Inserts {@code inserted} into a GHashTable and returns the keys in the order an iterator yields them
     * (QOM's property tables: qom-list of an object's class properties).
     */
    public static List<String> ghashOrder(List<String> inserted) {
        GHashOrder h = new GHashOrder();
        for (String k : inserted) {
            h.insert(k);
        }
        return h.order();
    }

    /**
     * A GHashTable's key order kept across inserts and removals (the /objects container's children, whose
     * order qom-list shows). Not thread-safe.
     */
    public static final class GHashOrder {
        private final GHashSim h = new GHashSim();

        public void insert(String key) {
            h.insert(key);
        }

        public void remove(String key) {
            h.remove(key);
        }

        /** The keys in iteration order. */
        public List<String> order() {
            List<String> out = new ArrayList<>(h.nnodes);
            for (int i = 0; i < h.size; i++) {
                if (GHashSim.isReal(h.hashes[i])) {
                    out.add(h.keys[i]);
                }
            }
            return out;
        }
    }

    /** glib 2.74's open-addressing hash table, reduced to what decides iteration order. */
    private static final class GHashSim {
        int size;
        int mod;
        int mask;
        int nnodes;
        int noccupied;
        int[] hashes;
        String[] keys;

        GHashSim() {
            setShift(MIN_SHIFT);
            hashes = new int[size];
            keys = new String[size];
        }

        void setShift(int shift) {
            size = 1 << shift;
            mod = PRIME_MOD[shift];
            mask = size - 1;
        }

        int hashToIndex(int hash) {
            return Integer.remainderUnsigned(hash * 11, mod);
        }

        int lookup(String key, int hash) {
            int index = hashToIndex(hash);
            int nodeHash = hashes[index];
            int firstTombstone = 0;
            boolean haveTombstone = false;
            int step = 0;
            while (nodeHash != 0) {
                if (nodeHash == hash && key.equals(keys[index])) {
                    return index;
                } else if (nodeHash == 1 && !haveTombstone) {
                    firstTombstone = index;
                    haveTombstone = true;
                }
                step++;
                index = (index + step) & mask;
                nodeHash = hashes[index];
            }
            return haveTombstone ? firstTombstone : index;
        }

        /** HASH_IS_REAL(): 0 is unused, 1 a tombstone; hashes are guint, so compared unsigned. */
        static boolean isReal(int hash) {
            return Integer.compareUnsigned(hash, 2) >= 0;
        }

        static int hashOf(String key) {
            int h = gStrHash(key);
            return Integer.compareUnsigned(h, 1) <= 0 ? 2 : h;
        }

        void insert(String key) {
            int hash = hashOf(key);
            int i = lookup(key, hash);
            int old = hashes[i];
            if (isReal(old)) {
                return; // already present
            }
            hashes[i] = hash;
            keys[i] = key;
            nnodes++;
            if (old == 0) {
                noccupied++;
                maybeResize();
            }
        }

        void remove(String key) {
            int hash = hashOf(key);
            int i = lookup(key, hash);
            if (!isReal(hashes[i])) {
                return;
            }
            hashes[i] = 1;
            keys[i] = null;
            nnodes--;
            maybeResize();
        }

        void maybeResize() {
            if ((size > nnodes * 4 && size > 1 << MIN_SHIFT) || (size <= noccupied + (noccupied / 16))) {
                resize();
            }
        }

        void resize() {
            int oldSize = size;
            int n = (int) (nnodes * 1.333);
            int shift = 0;
            while (n != 0) {
                n >>= 1;
                shift++;
            }
            setShift(Math.max(shift, MIN_SHIFT));
            int cap = Math.max(oldSize, size);
            int[] newHashes = java.util.Arrays.copyOf(hashes, cap);
            String[] newKeys = java.util.Arrays.copyOf(keys, cap);
            hashes = newHashes;
            keys = newKeys;
            boolean[] relocated = new boolean[cap];
            for (int i = 0; i < oldSize; i++) {
                int nodeHash = hashes[i];
                if (!isReal(nodeHash)) {
                    hashes[i] = 0;
                    continue;
                }
                if (relocated[i]) {
                    continue;
                }
                hashes[i] = 0;
                String key = keys[i];
                keys[i] = null;
                while (true) {
                    int step = 0;
                    int hv = hashToIndex(nodeHash);
                    while (relocated[hv]) {
                        step++;
                        hv = (hv + step) & mask;
                    }
                    relocated[hv] = true;
                    int replacedHash = hashes[hv];
                    String replacedKey = keys[hv];
                    hashes[hv] = nodeHash;
                    keys[hv] = key;
                    if (!isReal(replacedHash)) {
                        break;
                    }
                    nodeHash = replacedHash;
                    key = replacedKey;
                }
            }
            if (size < oldSize) {
                hashes = java.util.Arrays.copyOf(hashes, size);
                keys = java.util.Arrays.copyOf(keys, size);
            }
            noccupied = nnodes;
        }
    }
}
