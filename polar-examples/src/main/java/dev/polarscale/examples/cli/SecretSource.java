package dev.polarscale.examples.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * Where a cluster file's secret references are looked up: {@code {env: NAME}} in the environment,
 * {@code {file: PATH}} in a file. {@link #SYSTEM} is the real one; tests pass their own
 * environment.
 */
interface SecretSource {

    /** The variable's value, or {@code null} when it is not set. */
    String env(String name);

    /**
     * The file's content.
     *
     * @throws IllegalArgumentException saying what is wrong with the file (missing, unreadable,
     *                                  readable by every user)
     */
    String file(Path file);

    /** The process environment and the file system. */
    SecretSource SYSTEM = new SecretSource() {
        @Override
        public String env(String name) {
            return System.getenv(name);
        }

        @Override
        public String file(Path file) {
            return readSecretFile(file);
        }
    };

    /** A source with this environment and the real file system. */
    static SecretSource withEnvironment(java.util.Map<String, String> env) {
        return new SecretSource() {
            @Override
            public String env(String name) {
                return env.get(name);
            }

            @Override
            public String file(Path file) {
                return readSecretFile(file);
            }
        };
    }

    /**
     * Reads a secret file: it must be a regular file that other users cannot read (as ssh insists
     * for private keys); one trailing line break is not part of the secret.
     */
    static String readSecretFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("no such file: " + file);
        }
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        try {
            if (view != null) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
                if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                    throw new IllegalArgumentException(file + " is readable by every user of this machine: "
                            + "chmod o-r " + file + " (or chmod 600)");
                }
            }
            String s = Files.readString(file, StandardCharsets.UTF_8);
            if (s.endsWith("\r\n")) {
                return s.substring(0, s.length() - 2);
            }
            return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
