package io.isthmus.control.json;

/**
 * The JSON {@code null} value in the control plane's value model.
 *
 * <p>JSON values in control are plain Java objects: {@code LinkedHashMap<String,Object>} for objects
 * (member order kept), {@code ArrayList<Object>} for arrays, {@code String}, {@code Long} for integers
 * that fit, {@code BigInteger} only for integers outside the long range (uint64 values), {@code Double}
 * for numbers with a fraction or exponent, {@code Boolean}, and {@link #NULL}. Java {@code null} never
 * appears inside a value: it means "absent".
 */
public enum JsonNull {
    NULL;

    @Override
    public String toString() {
        return "null";
    }
}
