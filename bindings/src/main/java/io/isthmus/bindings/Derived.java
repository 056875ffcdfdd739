package io.isthmus.bindings;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a constant of a bindings class that is not a C macro or enum value but is computed in Java (a field
 * offset taken from a layout, a size), or a layout that is not a C struct (the JVM's errno capture state). The layout probe test checks every other public constant against the
 * value the C headers give; a constant marked here is exempt because its source (a layout) is checked instead.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Derived {
}
