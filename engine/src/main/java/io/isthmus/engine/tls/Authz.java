package io.isthmus.engine.tls;

import io.isthmus.engine.EngineException;

/**
 * An authorization decision on an identity (QEMU's {@code QAuthZ}): for TLS, the client certificate's
 * distinguished name as {@code gnutls_x509_crt_get_dn} writes it. The matching logic lives here: {@link AuthzSimple},
 * {@link AuthzList} (rules {@link AuthzRule}, {@link GlobPattern}). The control plane's QOM objects
 * ({@code authz-simple}, {@code authz-list}, {@code authz-listfile}, which reads its JSON file) implement this
 * interface by delegating to those; the NBD server may also pass a lambda that resolves a {@code tls-authz} id
 * lazily (QEMU resolves it at each check) and throws {@code Cannot find QAuthZ object ID X}.
 *
 * <p>Must be safe to call from any IoThread; must not block beyond a file stat (and the re-read of an
 * {@code authz-listfile} that changed).
 */
@FunctionalInterface
public interface Authz {
    /** True if {@code identity} is allowed. Throws {@link EngineException} (with QEMU's text) if the check itself
     *  cannot be made; the TLS session then fails with that message. */
    boolean isAllowed(String identity);
}
