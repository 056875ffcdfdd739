package io.isthmus.control.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads {@code qemu-img map --output=json} into comparable extents "start+length:kind" (kind data or
 * zero), merging neighbours of one kind: the fields that legitimately differ between a map over NBD and
 * one of the file (offset, depth, present) are left out.
 */
final class MapJson {
    private MapJson() {
    }

    static List<String> extents(String json) {
        JsonNode arr;
        try {
            arr = Qmp.JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("not a qemu-img map JSON: " + json, e);
        }
        List<long[]> merged = new ArrayList<>();
        List<String> kinds = new ArrayList<>();
        for (JsonNode e : arr) {
            long start = e.get("start").asLong();
            long length = e.get("length").asLong();
            String kind = e.get("data").asBoolean() ? "data" : (e.get("zero").asBoolean() ? "zero" : "unset");
            int last = merged.size() - 1;
            if (last >= 0 && kinds.get(last).equals(kind) && merged.get(last)[0] + merged.get(last)[1] == start) {
                merged.get(last)[1] += length;
            } else {
                merged.add(new long[] {start, length});
                kinds.add(kind);
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < merged.size(); i++) {
            out.add(merged.get(i)[0] + "+" + merged.get(i)[1] + ":" + kinds.get(i));
        }
        return out;
    }
}
