package dev.polarscale.replication.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Adopt#passwordMatches}: whether the spec's replication password is the one an existing
 * role has, checked against verifiers a real PostgreSQL 15 wrote to {@code pg_authid} for
 * {@code CREATE ROLE r1 PASSWORD 'polar-Repl-pässword 1'} (scram-sha-256, the default) and, with
 * {@code password_encryption = md5}, the same password for role {@code r2}.
 */
class AdoptPasswordTest {
    private static final String PASSWORD = "polar-Repl-pässword 1";
    private static final String SCRAM = "SCRAM-SHA-256$4096:gJYBAg6NcuGHxnNOffLzYA==$"
            + "GPoyG3ENYU8Z4AyUi1It8a1bTIV+QgY8FJJRwr1lOX8=:vcNUwKnmjn7rfOD5kFrbsmRZ1QN7uuh2ZZP1959EBiA=";
    private static final String MD5 = "md5b870c87ae25782596d55ade97685e96d";

    @Test
    void aScramVerifierMatchesItsPasswordOnly() {
        assertTrue(Adopt.passwordMatches(SCRAM, "r1", PASSWORD));
        assertFalse(Adopt.passwordMatches(SCRAM, "r1", "polar-Repl-password 1"));
        assertFalse(Adopt.passwordMatches(SCRAM, "r1", PASSWORD + " "));
    }

    @Test
    void anMd5HashMatchesItsPasswordAndRoleOnly() {
        assertTrue(Adopt.passwordMatches(MD5, "r2", PASSWORD));
        assertFalse(Adopt.passwordMatches(MD5, "r1", PASSWORD), "md5 is salted with the role name");
        assertFalse(Adopt.passwordMatches(MD5, "r2", "another password"));
    }

    @Test
    void noPasswordOrAnUnreadableVerifierMatchesNothing() {
        assertFalse(Adopt.passwordMatches(null, "r1", PASSWORD));
        assertFalse(Adopt.passwordMatches(PASSWORD, "r1", PASSWORD), "a plain-text value is no verifier");
        assertFalse(Adopt.passwordMatches("SCRAM-SHA-256$4096:not base64!$x:y", "r1", PASSWORD));
        assertFalse(Adopt.passwordMatches("SCRAM-SHA-256$x:gJYBAg6NcuGHxnNOffLzYA==$a:b", "r1", PASSWORD));
    }
}
