package io.isthmus.engine.block;

/**
 * The options of one node, as BlockdevOptions carries them (the control plane fills this from validated QMP or
 * command-line arguments; the engine never sees JSON). A null field was not given: defaults and inheritance
 * from an inline parent are applied by {@link BlockGraph}. Plain data, any thread until handed to the graph.
 */
public final class BlockOptions {
    public enum DetectZeroes { OFF, ON, UNMAP;
        public String qapiName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    // ---- common
    public String driver;
    public String nodeName;
    /** "ignore" or "unmap". */
    public String discard;
    public Boolean cacheDirect;
    public Boolean cacheNoFlush;
    public Boolean readOnly;
    public Boolean autoReadOnly;
    public Boolean forceShare;
    public DetectZeroes detectZeroes;

    // ---- file, host_device
    public String filename;
    /** "auto", "on" or "off". */
    public String locking;
    /** "threads", "native" or "io_uring": all served on the IoThread's io_uring. */
    public String aio;
    public Long aioMaxBatch;
    public Boolean dropCache;

    // ---- raw
    /** The file child by node-name, or null when {@link #fileInline} is given. */
    public String fileRef;
    public BlockOptions fileInline;
    public Long offset;
    public Long size;

    // ---- null-co, null-aio (size above)
    public Long latencyNs;
    public Boolean readZeroes;

    // ---- qcow2 (file above: fileRef / fileInline)
    /** The backing child by node-name; {@link #backingInline} for an inline definition; neither: the image's own. */
    public String backingRef;
    public BlockOptions backingInline;
    /** {@code "backing": null}: open without a backing file whatever the image header names. */
    public boolean backingNone;
    public Boolean lazyRefcounts;
    public Boolean passDiscardRequest;
    public Boolean passDiscardSnapshot;
    public Boolean passDiscardOther;
    /** Cache sizing (accepted; the driver sizes its caches itself) and the options this driver refuses. */
    public Long cacheSize, l2CacheSize, l2CacheEntrySize, refcountCacheSize, cacheCleanInterval;
    /** {@code encrypt} was given (encrypted qcow2 is not supported: refused at open). */
    public boolean encryptGiven;
    /** {@code encrypt.format} ("aes" or "luks"), when given. */
    public String encryptFormat;
    /** {@code data-file} was given (external data files are not supported: refused at open). */
    public boolean dataFileGiven;
    /** {@code data-file} as a node-name reference, when given that way. */
    public String dataFileRef;

    // ---- throttle
    /** The throttle-group option as given, and the group it names (resolved by the control plane; null if none). */
    public String throttleGroup;
    public io.isthmus.engine.block.throttle.ThrottleGroup throttleGroupResolved;

    public static BlockOptions of(String driver, String nodeName) {
        BlockOptions o = new BlockOptions();
        o.driver = driver;
        o.nodeName = nodeName;
        return o;
    }
}
