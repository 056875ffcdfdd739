package io.isthmus.engine.block.throttle;

/** One throttle node's membership in a {@link ThrottleGroup} (QEMU's ThrottleGroupMember). */
final class ThrottleMember {
    /** Re-examines the queued requests of both directions at once (limits changed). */
    void restartAll() {
    }
}
