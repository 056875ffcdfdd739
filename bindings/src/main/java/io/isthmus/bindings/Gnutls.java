package io.isthmus.bindings;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Bindings for the part of {@code <gnutls/gnutls.h>} (GnuTLS 3.7, soname libgnutls.so.30) the TLS layer uses,
 * in jextract's shape: constants, the {@code gnutls_datum_t} layout, the push/pull callback descriptors and
 * {@code static final} downcall handles. The X.509 functions of {@code <gnutls/x509.h>} are in
 * {@link GnutlsX509}.
 *
 * <p>Return convention: GnuTLS's own — {@code >= 0} success, a negative {@code GNUTLS_E_*} code on failure
 * ({@link #gnutls_strerror} names it). Not errno; callers map it. Thread use: any thread, one session used by one
 * thread at a time (GnuTLS sessions are not internally locked; credentials are read-only after loading and may be
 * shared). No handle is {@code critical}: record and handshake calls re-enter Java through the transport
 * callbacks. If the library is absent, every handle throws {@link UnsatisfiedLinkError} when called and
 * {@link #isAvailable()} is false.
 */
public final class Gnutls {
    private Gnutls() {}

    public static final String SONAME = "libgnutls.so.30";
    public static final Optional<SymbolLookup> LIB = load();

    private static Optional<SymbolLookup> load() {
        try {
            return Optional.of(SymbolLookup.libraryLookup(SONAME, Arena.global()));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public static boolean isAvailable() {
        return LIB.isPresent();
    }

    static MethodHandle fn(String name, FunctionDescriptor fd) {
        return NativeLibraries.optional(LIB, "libgnutls", name, fd);
    }

    // ---- typedef struct { unsigned char *data; unsigned int size; } gnutls_datum_t;
    public static final StructLayout gnutls_datum_t = MemoryLayout.structLayout(
            ADDRESS.withName("data"),
            JAVA_INT.withName("size"),
            MemoryLayout.paddingLayout(4)).withName("gnutls_datum_t");
    @Derived
    public static final long gnutls_datum_t_data = gnutls_datum_t.byteOffset(
            MemoryLayout.PathElement.groupElement("data"));
    @Derived
    public static final long gnutls_datum_t_size = gnutls_datum_t.byteOffset(
            MemoryLayout.PathElement.groupElement("size"));

    // ---- gnutls_init_flags_t
    public static final int GNUTLS_SERVER = 1, GNUTLS_CLIENT = 1 << 1, GNUTLS_NONBLOCK = 1 << 3,
            GNUTLS_NO_SIGNAL = 1 << 6;
    // ---- gnutls_credentials_type_t
    public static final int GNUTLS_CRD_CERTIFICATE = 1, GNUTLS_CRD_ANON = 2, GNUTLS_CRD_SRP = 3, GNUTLS_CRD_PSK = 4;
    // ---- gnutls_certificate_request_t
    public static final int GNUTLS_CERT_IGNORE = 0, GNUTLS_CERT_REQUEST = 1, GNUTLS_CERT_REQUIRE = 2;
    // ---- gnutls_certificate_status_t (bits)
    public static final int GNUTLS_CERT_INVALID = 1 << 1, GNUTLS_CERT_REVOKED = 1 << 5,
            GNUTLS_CERT_SIGNER_NOT_FOUND = 1 << 6, GNUTLS_CERT_SIGNER_NOT_CA = 1 << 7,
            GNUTLS_CERT_INSECURE_ALGORITHM = 1 << 8, GNUTLS_CERT_NOT_ACTIVATED = 1 << 9,
            GNUTLS_CERT_EXPIRED = 1 << 10;
    // ---- gnutls_close_request_t
    public static final int GNUTLS_SHUT_RDWR = 0, GNUTLS_SHUT_WR = 1;
    // ---- gnutls_x509_crt_fmt_t
    public static final int GNUTLS_X509_FMT_DER = 0, GNUTLS_X509_FMT_PEM = 1;
    // ---- gnutls_sec_param_t
    public static final int GNUTLS_SEC_PARAM_MEDIUM = 35;
    // ---- gnutls_psk_key_flags
    public static final int GNUTLS_PSK_KEY_RAW = 0, GNUTLS_PSK_KEY_HEX = 1;
    // ---- key usage bits
    public static final int GNUTLS_KEY_DIGITAL_SIGNATURE = 128, GNUTLS_KEY_KEY_ENCIPHERMENT = 32,
            GNUTLS_KEY_KEY_CERT_SIGN = 4;

    // ---- error codes
    public static final int GNUTLS_E_SUCCESS = 0, GNUTLS_E_FATAL_ALERT_RECEIVED = -12,
            GNUTLS_E_WARNING_ALERT_RECEIVED = -16, GNUTLS_E_AGAIN = -28, GNUTLS_E_REHANDSHAKE = -37,
            GNUTLS_E_NO_CERTIFICATE_FOUND = -49, GNUTLS_E_SHORT_MEMORY_BUFFER = -51, GNUTLS_E_INTERRUPTED = -52,
            GNUTLS_E_PUSH_ERROR = -53, GNUTLS_E_PULL_ERROR = -54, GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE = -56,
            GNUTLS_E_PREMATURE_TERMINATION = -110;

    // ---- callbacks: ssize_t (*gnutls_pull_func)(gnutls_transport_ptr_t, void *, size_t);
    //                 ssize_t (*gnutls_push_func)(gnutls_transport_ptr_t, const void *, size_t);
    public static final FunctionDescriptor gnutls_pull_func = FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS,
            JAVA_LONG);
    public static final FunctionDescriptor gnutls_push_func = FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS,
            JAVA_LONG);

    // ---- library
    /** const char *gnutls_check_version(const char *req_version) */
    public static MethodHandle gnutls_check_version() {
        return H_gnutls_check_version.H;
    }

    private static final class H_gnutls_check_version {
        static final MethodHandle H = fn("gnutls_check_version", FunctionDescriptor.of(ADDRESS, ADDRESS));
    }

    /** const char *gnutls_strerror(int error) */
    public static MethodHandle gnutls_strerror() {
        return H_gnutls_strerror.H;
    }

    private static final class H_gnutls_strerror {
        static final MethodHandle H = fn("gnutls_strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** int gnutls_error_is_fatal(int error) */
    public static MethodHandle gnutls_error_is_fatal() {
        return H_gnutls_error_is_fatal.H;
    }

    private static final class H_gnutls_error_is_fatal {
        static final MethodHandle H = fn("gnutls_error_is_fatal", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    // ---- session
    /** int gnutls_init(gnutls_session_t *session, unsigned int flags) */
    public static MethodHandle gnutls_init() {
        return H_gnutls_init.H;
    }

    private static final class H_gnutls_init {
        static final MethodHandle H = fn("gnutls_init", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** void gnutls_deinit(gnutls_session_t session) */
    public static MethodHandle gnutls_deinit() {
        return H_gnutls_deinit.H;
    }

    private static final class H_gnutls_deinit {
        static final MethodHandle H = fn("gnutls_deinit", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** int gnutls_priority_set_direct(gnutls_session_t, const char *priorities, const char **err_pos) */
    public static MethodHandle gnutls_priority_set_direct() {
        return H_gnutls_priority_set_direct.H;
    }

    private static final class H_gnutls_priority_set_direct {
        static final MethodHandle H = fn("gnutls_priority_set_direct", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    }

    /** int gnutls_credentials_set(gnutls_session_t, gnutls_credentials_type_t type, void *cred) */
    public static MethodHandle gnutls_credentials_set() {
        return H_gnutls_credentials_set.H;
    }

    private static final class H_gnutls_credentials_set {
        static final MethodHandle H = fn("gnutls_credentials_set", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    }

    /** void gnutls_certificate_server_set_request(gnutls_session_t, gnutls_certificate_request_t req) */
    public static MethodHandle gnutls_certificate_server_set_request() {
        return H_gnutls_certificate_server_set_request.H;
    }

    private static final class H_gnutls_certificate_server_set_request {
        static final MethodHandle H = fn( "gnutls_certificate_server_set_request", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
    }

    /** void gnutls_transport_set_ptr(gnutls_session_t, gnutls_transport_ptr_t ptr) */
    public static MethodHandle gnutls_transport_set_ptr() {
        return H_gnutls_transport_set_ptr.H;
    }

    private static final class H_gnutls_transport_set_ptr {
        static final MethodHandle H = fn("gnutls_transport_set_ptr", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    }

    /** void gnutls_transport_set_push_function(gnutls_session_t, gnutls_push_func) */
    public static MethodHandle gnutls_transport_set_push_function() {
        return H_gnutls_transport_set_push_function.H;
    }

    private static final class H_gnutls_transport_set_push_function {
        static final MethodHandle H = fn("gnutls_transport_set_push_function", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    }

    /** void gnutls_transport_set_pull_function(gnutls_session_t, gnutls_pull_func) */
    public static MethodHandle gnutls_transport_set_pull_function() {
        return H_gnutls_transport_set_pull_function.H;
    }

    private static final class H_gnutls_transport_set_pull_function {
        static final MethodHandle H = fn("gnutls_transport_set_pull_function", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    }

    /** void gnutls_transport_set_errno(gnutls_session_t, int err) */
    public static MethodHandle gnutls_transport_set_errno() {
        return H_gnutls_transport_set_errno.H;
    }

    private static final class H_gnutls_transport_set_errno {
        static final MethodHandle H = fn("gnutls_transport_set_errno", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT));
    }

    /** int gnutls_handshake(gnutls_session_t) */
    public static MethodHandle gnutls_handshake() {
        return H_gnutls_handshake.H;
    }

    private static final class H_gnutls_handshake {
        static final MethodHandle H = fn("gnutls_handshake", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** ssize_t gnutls_record_send(gnutls_session_t, const void *data, size_t data_size) */
    public static MethodHandle gnutls_record_send() {
        return H_gnutls_record_send.H;
    }

    private static final class H_gnutls_record_send {
        static final MethodHandle H = fn("gnutls_record_send", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    }

    /** ssize_t gnutls_record_recv(gnutls_session_t, void *data, size_t data_size) */
    public static MethodHandle gnutls_record_recv() {
        return H_gnutls_record_recv.H;
    }

    private static final class H_gnutls_record_recv {
        static final MethodHandle H = fn("gnutls_record_recv", FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
    }

    /** size_t gnutls_record_check_pending(gnutls_session_t) */
    public static MethodHandle gnutls_record_check_pending() {
        return H_gnutls_record_check_pending.H;
    }

    private static final class H_gnutls_record_check_pending {
        static final MethodHandle H = fn("gnutls_record_check_pending", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    }

    /** size_t gnutls_record_get_max_size(gnutls_session_t) */
    public static MethodHandle gnutls_record_get_max_size() {
        return H_gnutls_record_get_max_size.H;
    }

    private static final class H_gnutls_record_get_max_size {
        static final MethodHandle H = fn("gnutls_record_get_max_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
    }

    /** int gnutls_bye(gnutls_session_t, gnutls_close_request_t how) */
    public static MethodHandle gnutls_bye() {
        return H_gnutls_bye.H;
    }

    private static final class H_gnutls_bye {
        static final MethodHandle H = fn("gnutls_bye", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** gnutls_alert_description_t gnutls_alert_get(gnutls_session_t) */
    public static MethodHandle gnutls_alert_get() {
        return H_gnutls_alert_get.H;
    }

    private static final class H_gnutls_alert_get {
        static final MethodHandle H = fn("gnutls_alert_get", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** const char *gnutls_alert_get_name(gnutls_alert_description_t alert) */
    public static MethodHandle gnutls_alert_get_name() {
        return H_gnutls_alert_get_name.H;
    }

    private static final class H_gnutls_alert_get_name {
        static final MethodHandle H = fn("gnutls_alert_get_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** gnutls_protocol_t gnutls_protocol_get_version(gnutls_session_t) */
    public static MethodHandle gnutls_protocol_get_version() {
        return H_gnutls_protocol_get_version.H;
    }

    private static final class H_gnutls_protocol_get_version {
        static final MethodHandle H = fn("gnutls_protocol_get_version", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** const char *gnutls_protocol_get_name(gnutls_protocol_t version) */
    public static MethodHandle gnutls_protocol_get_name() {
        return H_gnutls_protocol_get_name.H;
    }

    private static final class H_gnutls_protocol_get_name {
        static final MethodHandle H = fn("gnutls_protocol_get_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    /** gnutls_cipher_algorithm_t gnutls_cipher_get(gnutls_session_t) */
    public static MethodHandle gnutls_cipher_get() {
        return H_gnutls_cipher_get.H;
    }

    private static final class H_gnutls_cipher_get {
        static final MethodHandle H = fn("gnutls_cipher_get", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** const char *gnutls_cipher_get_name(gnutls_cipher_algorithm_t) */
    public static MethodHandle gnutls_cipher_get_name() {
        return H_gnutls_cipher_get_name.H;
    }

    private static final class H_gnutls_cipher_get_name {
        static final MethodHandle H = fn("gnutls_cipher_get_name", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    // ---- certificate credentials
    /** int gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t *res) */
    public static MethodHandle gnutls_certificate_allocate_credentials() {
        return H_gnutls_certificate_allocate_credentials.H;
    }

    private static final class H_gnutls_certificate_allocate_credentials {
        static final MethodHandle H = fn( "gnutls_certificate_allocate_credentials", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** void gnutls_certificate_free_credentials(gnutls_certificate_credentials_t) */
    public static MethodHandle gnutls_certificate_free_credentials() {
        return H_gnutls_certificate_free_credentials.H;
    }

    private static final class H_gnutls_certificate_free_credentials {
        static final MethodHandle H = fn( "gnutls_certificate_free_credentials", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** int gnutls_certificate_set_x509_trust_file(cred, const char *cafile, gnutls_x509_crt_fmt_t) */
    public static MethodHandle gnutls_certificate_set_x509_trust_file() {
        return H_gnutls_certificate_set_x509_trust_file.H;
    }

    private static final class H_gnutls_certificate_set_x509_trust_file {
        static final MethodHandle H = fn( "gnutls_certificate_set_x509_trust_file", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }

    /** int gnutls_certificate_set_x509_crl_file(cred, const char *crlfile, gnutls_x509_crt_fmt_t) */
    public static MethodHandle gnutls_certificate_set_x509_crl_file() {
        return H_gnutls_certificate_set_x509_crl_file.H;
    }

    private static final class H_gnutls_certificate_set_x509_crl_file {
        static final MethodHandle H = fn( "gnutls_certificate_set_x509_crl_file", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }

    /** int gnutls_certificate_set_x509_key_file2(cred, certfile, keyfile, fmt, const char *pass, unsigned flags) */
    public static MethodHandle gnutls_certificate_set_x509_key_file2() {
        return H_gnutls_certificate_set_x509_key_file2.H;
    }

    private static final class H_gnutls_certificate_set_x509_key_file2 {
        static final MethodHandle H = fn( "gnutls_certificate_set_x509_key_file2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** void gnutls_certificate_set_dh_params(cred, gnutls_dh_params_t) */
    public static MethodHandle gnutls_certificate_set_dh_params() {
        return H_gnutls_certificate_set_dh_params.H;
    }

    private static final class H_gnutls_certificate_set_dh_params {
        static final MethodHandle H = fn("gnutls_certificate_set_dh_params", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    }

    /** int gnutls_certificate_set_known_dh_params(cred, gnutls_sec_param_t) */
    public static MethodHandle gnutls_certificate_set_known_dh_params() {
        return H_gnutls_certificate_set_known_dh_params.H;
    }

    private static final class H_gnutls_certificate_set_known_dh_params {
        static final MethodHandle H = fn( "gnutls_certificate_set_known_dh_params", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int gnutls_certificate_verify_peers2(gnutls_session_t, unsigned int *status) */
    public static MethodHandle gnutls_certificate_verify_peers2() {
        return H_gnutls_certificate_verify_peers2.H;
    }

    private static final class H_gnutls_certificate_verify_peers2 {
        static final MethodHandle H = fn("gnutls_certificate_verify_peers2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    /** const gnutls_datum_t *gnutls_certificate_get_peers(gnutls_session_t, unsigned int *list_size) */
    public static MethodHandle gnutls_certificate_get_peers() {
        return H_gnutls_certificate_get_peers.H;
    }

    private static final class H_gnutls_certificate_get_peers {
        static final MethodHandle H = fn("gnutls_certificate_get_peers", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    }

    // ---- Diffie-Hellman parameters
    /** int gnutls_dh_params_init(gnutls_dh_params_t *dh_params) */
    public static MethodHandle gnutls_dh_params_init() {
        return H_gnutls_dh_params_init.H;
    }

    private static final class H_gnutls_dh_params_init {
        static final MethodHandle H = fn("gnutls_dh_params_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** void gnutls_dh_params_deinit(gnutls_dh_params_t) */
    public static MethodHandle gnutls_dh_params_deinit() {
        return H_gnutls_dh_params_deinit.H;
    }

    private static final class H_gnutls_dh_params_deinit {
        static final MethodHandle H = fn("gnutls_dh_params_deinit", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** int gnutls_dh_params_import_pkcs3(gnutls_dh_params_t, const gnutls_datum_t *pkcs3_params, fmt) */
    public static MethodHandle gnutls_dh_params_import_pkcs3() {
        return H_gnutls_dh_params_import_pkcs3.H;
    }

    private static final class H_gnutls_dh_params_import_pkcs3 {
        static final MethodHandle H = fn("gnutls_dh_params_import_pkcs3", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    }

    // ---- PSK credentials
    /** int gnutls_psk_allocate_server_credentials(gnutls_psk_server_credentials_t *sc) */
    public static MethodHandle gnutls_psk_allocate_server_credentials() {
        return H_gnutls_psk_allocate_server_credentials.H;
    }

    private static final class H_gnutls_psk_allocate_server_credentials {
        static final MethodHandle H = fn( "gnutls_psk_allocate_server_credentials", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** void gnutls_psk_free_server_credentials(gnutls_psk_server_credentials_t) */
    public static MethodHandle gnutls_psk_free_server_credentials() {
        return H_gnutls_psk_free_server_credentials.H;
    }

    private static final class H_gnutls_psk_free_server_credentials {
        static final MethodHandle H = fn("gnutls_psk_free_server_credentials", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** int gnutls_psk_set_server_credentials_file(gnutls_psk_server_credentials_t, const char *password_file) */
    public static MethodHandle gnutls_psk_set_server_credentials_file() {
        return H_gnutls_psk_set_server_credentials_file.H;
    }

    private static final class H_gnutls_psk_set_server_credentials_file {
        static final MethodHandle H = fn( "gnutls_psk_set_server_credentials_file", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    }

    /** void gnutls_psk_set_server_dh_params(gnutls_psk_server_credentials_t, gnutls_dh_params_t) */
    public static MethodHandle gnutls_psk_set_server_dh_params() {
        return H_gnutls_psk_set_server_dh_params.H;
    }

    private static final class H_gnutls_psk_set_server_dh_params {
        static final MethodHandle H = fn("gnutls_psk_set_server_dh_params", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    }

    /** int gnutls_psk_set_server_known_dh_params(gnutls_psk_server_credentials_t, gnutls_sec_param_t) */
    public static MethodHandle gnutls_psk_set_server_known_dh_params() {
        return H_gnutls_psk_set_server_known_dh_params.H;
    }

    private static final class H_gnutls_psk_set_server_known_dh_params {
        static final MethodHandle H = fn( "gnutls_psk_set_server_known_dh_params", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int gnutls_psk_allocate_client_credentials(gnutls_psk_client_credentials_t *sc) */
    public static MethodHandle gnutls_psk_allocate_client_credentials() {
        return H_gnutls_psk_allocate_client_credentials.H;
    }

    private static final class H_gnutls_psk_allocate_client_credentials {
        static final MethodHandle H = fn( "gnutls_psk_allocate_client_credentials", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** void gnutls_psk_free_client_credentials(gnutls_psk_client_credentials_t) */
    public static MethodHandle gnutls_psk_free_client_credentials() {
        return H_gnutls_psk_free_client_credentials.H;
    }

    private static final class H_gnutls_psk_free_client_credentials {
        static final MethodHandle H = fn("gnutls_psk_free_client_credentials", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** int gnutls_psk_set_client_credentials(res, const char *username, const gnutls_datum_t *key, flags) */
    public static MethodHandle gnutls_psk_set_client_credentials() {
        return H_gnutls_psk_set_client_credentials.H;
    }

    private static final class H_gnutls_psk_set_client_credentials {
        static final MethodHandle H = fn("gnutls_psk_set_client_credentials", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    }

    /** const char *gnutls_psk_server_get_username(gnutls_session_t) */
    public static MethodHandle gnutls_psk_server_get_username() {
        return H_gnutls_psk_server_get_username.H;
    }

    private static final class H_gnutls_psk_server_get_username {
        static final MethodHandle H = fn("gnutls_psk_server_get_username", FunctionDescriptor.of(ADDRESS, ADDRESS));
    }

    // ---- anonymous credentials
    /** int gnutls_anon_allocate_server_credentials(gnutls_anon_server_credentials_t *sc) */
    public static MethodHandle gnutls_anon_allocate_server_credentials() {
        return H_gnutls_anon_allocate_server_credentials.H;
    }

    private static final class H_gnutls_anon_allocate_server_credentials {
        static final MethodHandle H = fn( "gnutls_anon_allocate_server_credentials", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** void gnutls_anon_free_server_credentials(gnutls_anon_server_credentials_t) */
    public static MethodHandle gnutls_anon_free_server_credentials() {
        return H_gnutls_anon_free_server_credentials.H;
    }

    private static final class H_gnutls_anon_free_server_credentials {
        static final MethodHandle H = fn("gnutls_anon_free_server_credentials", FunctionDescriptor.ofVoid(ADDRESS));
    }

    /** void gnutls_anon_set_server_dh_params(gnutls_anon_server_credentials_t, gnutls_dh_params_t) */
    public static MethodHandle gnutls_anon_set_server_dh_params() {
        return H_gnutls_anon_set_server_dh_params.H;
    }

    private static final class H_gnutls_anon_set_server_dh_params {
        static final MethodHandle H = fn("gnutls_anon_set_server_dh_params", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
    }

    /** int gnutls_anon_set_server_known_dh_params(gnutls_anon_server_credentials_t, gnutls_sec_param_t) */
    public static MethodHandle gnutls_anon_set_server_known_dh_params() {
        return H_gnutls_anon_set_server_known_dh_params.H;
    }

    private static final class H_gnutls_anon_set_server_known_dh_params {
        static final MethodHandle H = fn( "gnutls_anon_set_server_known_dh_params", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** int gnutls_anon_allocate_client_credentials(gnutls_anon_client_credentials_t *sc) */
    public static MethodHandle gnutls_anon_allocate_client_credentials() {
        return H_gnutls_anon_allocate_client_credentials.H;
    }

    private static final class H_gnutls_anon_allocate_client_credentials {
        static final MethodHandle H = fn( "gnutls_anon_allocate_client_credentials", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** void gnutls_anon_free_client_credentials(gnutls_anon_client_credentials_t) */
    public static MethodHandle gnutls_anon_free_client_credentials() {
        return H_gnutls_anon_free_client_credentials.H;
    }

    private static final class H_gnutls_anon_free_client_credentials {
        static final MethodHandle H = fn("gnutls_anon_free_client_credentials", FunctionDescriptor.ofVoid(ADDRESS));
    }
}
