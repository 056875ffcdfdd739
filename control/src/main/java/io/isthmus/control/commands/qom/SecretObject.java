package io.isthmus.control.commands.qom;

import io.isthmus.control.QmpError;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * secret: a password or key given inline ({@code data}) or in a file ({@code file}), {@code raw} or
 * {@code base64}, optionally AES-256-CBC encrypted with another secret ({@code keyid}, {@code iv}) as
 * QEMU's crypto/secret_common.c does. Other objects (TLS credentials' {@code passwordid}) read it with
 * {@link #value}.
 */
public final class SecretObject extends AbstractQomObject {
    private final ObjectRegistry objects;
    private final String format;
    private final String keyid;
    private final String iv;
    private final String data;
    private final String file;
    private byte[] value;

    public SecretObject(String id, Map<String, Object> props, ObjectRegistry objects) {
        super(id, "secret");
        this.objects = objects;
        this.format = (String) props.getOrDefault("format", "raw");
        this.keyid = (String) props.get("keyid");
        this.iv = (String) props.get("iv");
        this.data = (String) props.get("data");
        this.file = (String) props.get("file");
    }

    @Override
    public void complete() throws QmpError {
        byte[] input;
        if (file != null) {
            if (data != null) {
                throw QmpError.generic("'file' and 'data' are mutually exclusive");
            }
            try {
                input = GlibFiles.read(file);
            } catch (GlibFiles.ReadError e) {
                throw QmpError.generic("Unable to read " + file + ": " + e.getMessage());
            }
        } else if (data != null) {
            input = data.getBytes(StandardCharsets.UTF_8);
        } else {
            throw QmpError.generic("Either 'file' or 'data' must be provided");
        }
        if (keyid != null) {
            input = decrypt(input);
            if ("base64".equals(format)) {
                input = base64(input);
            }
        } else if ("base64".equals(format)) {
            input = base64(input);
        }
        value = input;
    }

    /** The secret's bytes (after decoding and decryption). */
    public byte[] value() {
        return value.clone();
    }

    /** The secret as text, as QEMU's qcrypto_secret_lookup_as_utf8 returns it. */
    public String valueAsUtf8() {
        return new String(value, StandardCharsets.UTF_8);
    }

    private static byte[] base64(byte[] in) throws QmpError {
        for (byte b : in) {
            if (b == 0) {
                throw QmpError.generic("Base64 data contains embedded NUL characters");
            }
        }
        try {
            return Base64.getDecoder().decode(new String(in, StandardCharsets.US_ASCII).strip());
        } catch (IllegalArgumentException e) {
            throw QmpError.generic("Base64 data contains invalid characters");
        }
    }

    private byte[] decrypt(byte[] input) throws QmpError {
        QomObject keyObj = objects.get(keyid);
        if (!(keyObj instanceof SecretObject key)) {
            throw QmpError.generic(keyObj == null ? "No secret with id '" + keyid + "'"
                    : "Object with id '" + keyid + "' is not a secret");
        }
        byte[] k = key.value();
        if (k.length != 32) {
            throw QmpError.generic("Key for decrypting secret must be 32 bytes long");
        }
        if (iv == null) {
            throw QmpError.generic("IV is required to decrypt secret");
        }
        byte[] ivBytes = base64(iv.getBytes(StandardCharsets.US_ASCII));
        if (ivBytes.length != 16) {
            throw QmpError.generic("IV is " + ivBytes.length + " bytes not 16");
        }
        byte[] cipherText = base64(input);
        byte[] plain;
        try {
            Cipher c = Cipher.getInstance("AES/CBC/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(k, "AES"), new IvParameterSpec(ivBytes));
            plain = c.doFinal(cipherText);
        } catch (GeneralSecurityException e) {
            throw QmpError.generic("Cannot decrypt secret: " + e.getMessage());
        }
        int pad = plain.length == 0 ? 0 : plain[plain.length - 1] & 0xFF;
        if (pad == 0 || pad > 16 || pad > plain.length) {
            throw QmpError.generic("Incorrect number of padding bytes (" + pad + ") found on decrypted data");
        }
        return Arrays.copyOf(plain, plain.length - pad);
    }
}
