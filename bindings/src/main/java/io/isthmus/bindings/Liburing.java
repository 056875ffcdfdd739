package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * liburing's exported functions (liburing.h, liburing 2.3). liburing returns {@code -errno} itself, so none of
 * these capture errno. The {@code io_uring_prep_*} helpers are static inline in C: their Java equivalents are
 * in {@link IoUringPrep}.
 *
 * <p>The raw system-call wrappers ({@code io_uring_setup/enter/register}) are what the engine's ring uses: it
 * maps the rings itself from the kernel's offsets, so it does not depend on liburing's {@code struct io_uring}
 * layout, which changes between liburing versions. The {@code struct io_uring *} functions are bound for
 * completeness and for the C-equivalence benchmark; their argument is an opaque pointer.
 *
 * <p>{@code io_uring_enter} may block: it is never bound as critical.
 */
public final class Liburing {
    private Liburing() {}

    private static MethodHandle h(String name, FunctionDescriptor fd) {
        return NativeLibraries.optional(NativeLibraries.LIBURING, "liburing", name, fd);
    }

    /** int io_uring_setup(unsigned entries, struct io_uring_params *p) */
    public static MethodHandle io_uring_setup() {
        return H_io_uring_setup.H;
    }

    private static final class H_io_uring_setup {
        static final MethodHandle H = h("io_uring_setup", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** int io_uring_enter(unsigned fd, unsigned to_submit, unsigned min_complete, unsigned flags, sigset_t *sig) */
    public static MethodHandle io_uring_enter() {
        return H_io_uring_enter.H;
    }

    private static final class H_io_uring_enter {
        static final MethodHandle H = h("io_uring_enter", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** int io_uring_register(unsigned fd, unsigned opcode, const void *arg, unsigned nr_args) */
    public static MethodHandle io_uring_register() {
        return H_io_uring_register.H;
    }

    private static final class H_io_uring_register {
        static final MethodHandle H = h("io_uring_register", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int io_uring_queue_init_params(unsigned entries, struct io_uring *ring, struct io_uring_params *p) */
    public static MethodHandle io_uring_queue_init_params() {
        return H_io_uring_queue_init_params.H;
    }

    private static final class H_io_uring_queue_init_params {
        static final MethodHandle H = h("io_uring_queue_init_params", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    }

    /** int io_uring_queue_init(unsigned entries, struct io_uring *ring, unsigned flags) */
    public static MethodHandle io_uring_queue_init() {
        return H_io_uring_queue_init.H;
    }

    private static final class H_io_uring_queue_init {
        static final MethodHandle H = h("io_uring_queue_init", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** void io_uring_queue_exit(struct io_uring *ring) */
    public static MethodHandle io_uring_queue_exit() {
        return H_io_uring_queue_exit.H;
    }

    private static final class H_io_uring_queue_exit {
        static final MethodHandle H = h("io_uring_queue_exit", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** int io_uring_submit(struct io_uring *ring) */
    public static MethodHandle io_uring_submit() {
        return H_io_uring_submit.H;
    }

    private static final class H_io_uring_submit {
        static final MethodHandle H = h("io_uring_submit", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** int io_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr) */
    public static MethodHandle io_uring_submit_and_wait() {
        return H_io_uring_submit_and_wait.H;
    }

    private static final class H_io_uring_submit_and_wait {
        static final MethodHandle H = h("io_uring_submit_and_wait", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int io_uring_register_buffers(struct io_uring *ring, const struct iovec *iovecs, unsigned nr_iovecs) */
    public static MethodHandle io_uring_register_buffers() {
        return H_io_uring_register_buffers.H;
    }

    private static final class H_io_uring_register_buffers {
        static final MethodHandle H = h("io_uring_register_buffers", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }

    /** int io_uring_unregister_buffers(struct io_uring *ring) */
    public static MethodHandle io_uring_unregister_buffers() {
        return H_io_uring_unregister_buffers.H;
    }

    private static final class H_io_uring_unregister_buffers {
        static final MethodHandle H = h("io_uring_unregister_buffers", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** int io_uring_register_files(struct io_uring *ring, const int *files, unsigned nr_files) */
    public static MethodHandle io_uring_register_files() {
        return H_io_uring_register_files.H;
    }

    private static final class H_io_uring_register_files {
        static final MethodHandle H = h("io_uring_register_files", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }

    /** int io_uring_unregister_files(struct io_uring *ring) */
    public static MethodHandle io_uring_unregister_files() {
        return H_io_uring_unregister_files.H;
    }

    private static final class H_io_uring_unregister_files {
        static final MethodHandle H = h("io_uring_unregister_files", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** int io_uring_register_eventfd(struct io_uring *ring, int fd) */
    public static MethodHandle io_uring_register_eventfd() {
        return H_io_uring_register_eventfd.H;
    }

    private static final class H_io_uring_register_eventfd {
        static final MethodHandle H = h("io_uring_register_eventfd", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int io_uring_unregister_eventfd(struct io_uring *ring) */
    public static MethodHandle io_uring_unregister_eventfd() {
        return H_io_uring_unregister_eventfd.H;
    }

    private static final class H_io_uring_unregister_eventfd {
        static final MethodHandle H = h("io_uring_unregister_eventfd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }
}
