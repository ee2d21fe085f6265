package dev.polarscale.core.rig;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.Executors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Key files made by the real {@code ssh-keygen} (OpenSSH), as users make them. */
public final class SshKeygen {
    private static final Path SSH_KEYGEN = Path.of("/usr/bin/ssh-keygen");

    private SshKeygen() {
    }

    /** Why keys cannot be made here, or empty. */
    public static Optional<String> unavailableReason() {
        return Files.isExecutable(SSH_KEYGEN) ? Optional.empty()
                : Optional.of(SSH_KEYGEN + " is missing (Debian package openssh-client)");
    }

    /**
     * {@code ssh-keygen -q -f DIR/NAME -N PASSPHRASE -C NAME OPTIONS...}: writes the private key
     * and {@code NAME.pub}.
     *
     * @param passphrase {@code ""} for none
     * @param options    e.g. {@code "-t", "ed25519"} or {@code "-t", "rsa", "-m", "PEM"}
     * @return the private key file
     */
    public static Path generate(Path dir, String name, String passphrase, String... options) {
        Path key = dir.resolve(name);
        List<String> argv = new ArrayList<>(List.of(SSH_KEYGEN.toString(), "-q", "-f", key.toString(),
                "-N", passphrase, "-C", name));
        argv.addAll(List.of(options));
        Command keygen = Command.of(argv).withTimeout(Duration.ofSeconds(60));
        CommandResult r = Executors.local().execute(passphrase.isEmpty() ? keygen : keygen.withSecret(passphrase));
        if (!r.succeeded()) {
            throw new IllegalStateException("ssh-keygen " + String.join(" ", options) + " failed (exit " + r.exitCode()
                    + "): " + r.stderr());
        }
        return key;
    }

    /** The public key line ({@code type base64 comment}) written beside {@code privateKey}. */
    public static String publicKeyLine(Path privateKey) {
        try {
            return Files.readString(privateKey.resolveSibling(privateKey.getFileName() + ".pub")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
