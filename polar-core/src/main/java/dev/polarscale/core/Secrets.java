package dev.polarscale.core;

import java.security.SecureRandom;
import java.util.Objects;

/**
 * Passwords PolarScale generates or accepts: generated ones are 24 characters from an
 * unambiguous alphabet drawn with {@link SecureRandom}; accepted ones need at least 8
 * characters and no control character (a newline would break a {@code .pgpass} line).
 *
 * <pre>{@code
 * String pw = Secrets.randomPassword();
 * Secrets.requirePassword(pw, "replication password");   // returns pw
 * }</pre>
 */
public final class Secrets {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private static final int LENGTH = 24;

    private Secrets() {
    }

    public static String randomPassword() {
        StringBuilder sb = new StringBuilder(LENGTH);
        for (int i = 0; i < LENGTH; i++) {
            sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
        }
        return sb.toString();
    }

    /** Returns {@code password} if acceptable; the message names {@code what}, never the value. */
    public static String requirePassword(String password, String what) {
        Objects.requireNonNull(password, what);
        if (password.length() < 8 || password.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
            throw new IllegalArgumentException(what + " must have at least 8 characters and no control characters");
        }
        return password;
    }
}
