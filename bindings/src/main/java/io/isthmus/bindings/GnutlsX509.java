package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * Bindings for the part of {@code <gnutls/x509.h>} the TLS layer uses: certificate import, the distinguished
 * name, validity times, and the extensions QEMU's credential sanity check reads. Same conventions as
 * {@link Gnutls}: {@code >= 0} or a negative {@code GNUTLS_E_*} code; any thread; a {@code gnutls_x509_crt_t} is
 * owned by whoever initialised it and must be deinitialised by it. {@code time_t} is 64-bit on the supported
 * targets (checked by the layout test).
 */
public final class GnutlsX509 {
    private GnutlsX509() {}

    public static final String GNUTLS_KP_TLS_WWW_SERVER = "1.3.6.1.5.5.7.3.1";
    public static final String GNUTLS_KP_TLS_WWW_CLIENT = "1.3.6.1.5.5.7.3.2";
    public static final String GNUTLS_KP_ANY = "2.5.29.37.0";

    /** int gnutls_x509_crt_init(gnutls_x509_crt_t *cert) */
    public static MethodHandle gnutls_x509_crt_init() {
        return H_gnutls_x509_crt_init.H;
    }

    private static final class H_gnutls_x509_crt_init {
        static final MethodHandle H = Gnutls.fn("gnutls_x509_crt_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** void gnutls_x509_crt_deinit(gnutls_x509_crt_t cert) */
    public static MethodHandle gnutls_x509_crt_deinit() {
        return H_gnutls_x509_crt_deinit.H;
    }

    private static final class H_gnutls_x509_crt_deinit {
        static final MethodHandle H = Gnutls.fn("gnutls_x509_crt_deinit", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** int gnutls_x509_crt_import(gnutls_x509_crt_t, const gnutls_datum_t *data, gnutls_x509_crt_fmt_t) */
    public static MethodHandle gnutls_x509_crt_import() {
        return H_gnutls_x509_crt_import.H;
    }

    private static final class H_gnutls_x509_crt_import {
        static final MethodHandle H = Gnutls.fn("gnutls_x509_crt_import", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }

    /** int gnutls_x509_crt_list_import(gnutls_x509_crt_t *certs, unsigned int *cert_max, const gnutls_datum_t *,
     *  gnutls_x509_crt_fmt_t, unsigned int flags) */
    public static MethodHandle gnutls_x509_crt_list_import() {
        return H_gnutls_x509_crt_list_import.H;
    }

    private static final class H_gnutls_x509_crt_list_import {
        static final MethodHandle H = Gnutls.fn("gnutls_x509_crt_list_import", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
    }

    /** int gnutls_x509_crt_get_dn(gnutls_x509_crt_t, char *buf, size_t *buf_size) */
    public static MethodHandle gnutls_x509_crt_get_dn() {
        return H_gnutls_x509_crt_get_dn.H;
    }

    private static final class H_gnutls_x509_crt_get_dn {
        static final MethodHandle H = Gnutls.fn("gnutls_x509_crt_get_dn", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    /** time_t gnutls_x509_crt_get_activation_time(gnutls_x509_crt_t) */
    public static MethodHandle gnutls_x509_crt_get_activation_time() {
        return H_gnutls_x509_crt_get_activation_time.H;
    }

    private static final class H_gnutls_x509_crt_get_activation_time {
        static final MethodHandle H = Gnutls.fn( "gnutls_x509_crt_get_activation_time", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    }

    /** time_t gnutls_x509_crt_get_expiration_time(gnutls_x509_crt_t) */
    public static MethodHandle gnutls_x509_crt_get_expiration_time() {
        return H_gnutls_x509_crt_get_expiration_time.H;
    }

    private static final class H_gnutls_x509_crt_get_expiration_time {
        static final MethodHandle H = Gnutls.fn( "gnutls_x509_crt_get_expiration_time", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    }

    /** int gnutls_x509_crt_get_basic_constraints(gnutls_x509_crt_t, unsigned *critical, unsigned *ca, int *pathlen) */
    public static MethodHandle gnutls_x509_crt_get_basic_constraints() {
        return H_gnutls_x509_crt_get_basic_constraints.H;
    }

    private static final class H_gnutls_x509_crt_get_basic_constraints {
        static final MethodHandle H = Gnutls.fn( "gnutls_x509_crt_get_basic_constraints", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    }

    /** int gnutls_x509_crt_get_key_usage(gnutls_x509_crt_t, unsigned int *key_usage, unsigned int *critical) */
    public static MethodHandle gnutls_x509_crt_get_key_usage() {
        return H_gnutls_x509_crt_get_key_usage.H;
    }

    private static final class H_gnutls_x509_crt_get_key_usage {
        static final MethodHandle H = Gnutls.fn("gnutls_x509_crt_get_key_usage", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    /** int gnutls_x509_crt_get_key_purpose_oid(gnutls_x509_crt_t, unsigned indx, void *oid, size_t *oid_size,
     *  unsigned int *critical) */
    public static MethodHandle gnutls_x509_crt_get_key_purpose_oid() {
        return H_gnutls_x509_crt_get_key_purpose_oid.H;
    }

    private static final class H_gnutls_x509_crt_get_key_purpose_oid {
        static final MethodHandle H = Gnutls.fn( "gnutls_x509_crt_get_key_purpose_oid", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    /** int gnutls_x509_crt_list_verify(const gnutls_x509_crt_t *cert_list, unsigned len,
     *  const gnutls_x509_crt_t *CA_list, unsigned ca_len, const gnutls_x509_crl_t *CRL_list, unsigned crl_len,
     *  unsigned flags, unsigned *verify) */
    public static MethodHandle gnutls_x509_crt_list_verify() {
        return H_gnutls_x509_crt_list_verify.H;
    }

    private static final class H_gnutls_x509_crt_list_verify {
        static final MethodHandle H = Gnutls.fn("gnutls_x509_crt_list_verify", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    }

    /** unsigned gnutls_x509_crt_check_hostname(gnutls_x509_crt_t, const char *hostname) */
    public static MethodHandle gnutls_x509_crt_check_hostname() {
        return H_gnutls_x509_crt_check_hostname.H;
    }

    private static final class H_gnutls_x509_crt_check_hostname {
        static final MethodHandle H = Gnutls.fn("gnutls_x509_crt_check_hostname", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }
}
