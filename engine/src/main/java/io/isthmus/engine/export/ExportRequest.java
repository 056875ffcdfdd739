package io.isthmus.engine.export;

import io.isthmus.engine.block.BlockCallback;
import io.isthmus.engine.block.BlockRequest;

/**
 * The completion side shared by every export type's request object (an NBD slot, a virtqueue request, a FUSE
 * request): submits its {@link BlockRequest} through the export's {@link NodeAccess} and receives the result in
 * {@link #completed}, whether the node completes the request later on the ring or at once, inside
 * {@code submit} (null-co, a cache hit, an error found before any I/O).
 *
 * <p>The re-entry guard: a request's next stage is usually submitted from its completion (flush then read, read
 * then the next chunk). If the node completed inline and {@code completed} ran inside {@code submit}, every
 * inline stage would add stack frames and run the caller's code before {@code submit} returned. Instead an
 * inline result is held and delivered once {@code submit} has returned, in a loop: the IoThread's stack never
 * holds more than one {@code completed} frame of a request, and the caller's state is consistent when it runs.
 *
 * <p>Thread use: the IoThread that owns the request, only. No allocation: the request object is preallocated
 * per connection or queue and reused. Results are {@code >= 0} or {@code -errno}.
 */
public abstract class ExportRequest implements BlockCallback {
    private boolean submitting;
    private boolean draining;
    private boolean pendingDone;
    private int pendingResult;

    /** The request's block result, delivered once per submit, never inside {@link #submit}. */
    protected abstract void completed(int result);

    /**
     * Submits {@code request} (whose callback is this object) through {@code node}. Its result arrives in
     * {@link #completed}: after this call returns when the node completed it inline, else from the ring.
     */
    protected final void submit(NodeAccess node, BlockRequest request) {
        submitting = true;
        pendingDone = false;
        node.submit(request);
        submitting = false;
        if (!pendingDone || draining) {
            return; // asynchronous, or an outer frame's loop below delivers the inline result
        }
        draining = true;
        try {
            while (pendingDone) {
                pendingDone = false;
                completed(pendingResult);
            }
        } finally {
            draining = false;
        }
    }

    @Override
    public final void done(BlockRequest request, int result) {
        if (submitting) {
            pendingDone = true;
            pendingResult = result;
            return;
        }
        completed(result);
    }
}
