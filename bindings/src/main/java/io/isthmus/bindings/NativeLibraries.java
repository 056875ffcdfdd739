package io.isthmus.bindings;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Where the bindings find their symbols: libc through the linker's default lookup, liburing and libfuse3
 * through their sonames. Libraries are loaded into the global arena (never unloaded).
 *
 * <p>Handles are made on first use: each binding class returns a function's handle from a holder class of its own
 * (the pattern jextract generates), so the daemon links only the functions it calls. Linking costs 2-6 ms per
 * handle at start-up (the FFM linker spins classes the start-up cache cannot hold); linking all of the libc and
 * liburing bindings eagerly cost 150-230 ms before the first export could start.
 *
 * <p>A missing library is not an error here: handles of an absent library are {@code null}-free stubs that
 * throw {@link UnsatisfiedLinkError} naming the library when called, so the daemon can report the cause in one
 * line instead of failing in a static initializer.
 */
public final class NativeLibraries {
    private NativeLibraries() {}

    public static final Linker LINKER = Linker.nativeLinker();
    public static final SymbolLookup LIBC = LINKER.defaultLookup();
    public static final Optional<SymbolLookup> LIBURING = load("liburing.so.2");
    public static final Optional<SymbolLookup> LIBFUSE3 = load("libfuse3.so.3");

    private static Optional<SymbolLookup> load(String soname) {
        try {
            return Optional.of(SymbolLookup.libraryLookup(soname, Arena.global()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Downcall handle for a libc function. */
    public static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment addr = LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc: no symbol " + name));
        return LINKER.downcallHandle(addr, fd, options);
    }

    /** Downcall handle for a symbol of an optional library; a missing library or symbol yields a throwing stub. */
    public static MethodHandle optional(Optional<SymbolLookup> lib, String libName, String name, FunctionDescriptor fd,
                                        Linker.Option... options) {
        Optional<MemorySegment> addr = lib.flatMap(l -> l.find(name));
        if (addr.isPresent()) {
            return LINKER.downcallHandle(addr.get(), fd, options);
        }
        return MissingSymbol.stub(libName + ": " + name + " is not available (is the package installed?)", fd);
    }

    public static boolean hasLiburing() {
        return LIBURING.isPresent();
    }

    public static boolean hasLibfuse3() {
        return LIBFUSE3.isPresent();
    }
}
