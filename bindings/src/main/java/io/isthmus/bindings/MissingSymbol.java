package io.isthmus.bindings;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/** A method handle of a native function's type that throws {@link UnsatisfiedLinkError} when invoked. */
final class MissingSymbol {
    private MissingSymbol() {}

    private static final MethodHandle THROWER;

    static {
        try {
            THROWER = MethodHandles.lookup().findStatic(MissingSymbol.class, "fail",
                    MethodType.methodType(void.class, String.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    private static void fail(String message) {
        throw new UnsatisfiedLinkError(message);
    }

    static MethodHandle stub(String message, FunctionDescriptor fd) {
        MethodType type = fd.toMethodType();
        MethodHandle h = MethodHandles.insertArguments(THROWER, 0, message);
        if (type.returnType() != void.class) {
            h = MethodHandles.filterReturnValue(h, MethodHandles.zero(type.returnType()));
        }
        return MethodHandles.dropArguments(h, 0, type.parameterList());
    }
}
