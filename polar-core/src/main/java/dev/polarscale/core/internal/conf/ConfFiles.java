package dev.polarscale.core.internal.conf;

import dev.polarscale.core.PolarException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.function.UnaryOperator;

/**
 * Rewrites a server config file in place: read, edit, write a temporary file beside it with the
 * original's mode, owner and group, then rename it over the original, so the server never reads a
 * half-written file and a config file written as root stays readable by the server's OS user.
 */
public final class ConfFiles {
    private ConfFiles() {
    }

    public static void rewrite(Path file, UnaryOperator<String> edit) {
        Path target = file.toAbsolutePath();
        Path tmp = null;
        try {
            target = target.toRealPath();
            String before = Files.readString(target, StandardCharsets.UTF_8);
            String after = edit.apply(before);
            if (after.equals(before)) {
                return;
            }
            tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".polarscale.tmp");
            Files.writeString(tmp, after, StandardCharsets.UTF_8);
            PosixFileAttributeView view = Files.getFileAttributeView(target, PosixFileAttributeView.class);
            if (view != null) {
                PosixFileAttributes attrs = view.readAttributes();
                PosixFileAttributeView tmpView = Files.getFileAttributeView(tmp, PosixFileAttributeView.class);
                tmpView.setPermissions(attrs.permissions());
                PosixFileAttributes tmpAttrs = tmpView.readAttributes();
                if (!tmpAttrs.group().equals(attrs.group())) {
                    tmpView.setGroup(attrs.group());
                }
                if (!tmpAttrs.owner().equals(attrs.owner())) {
                    tmpView.setOwner(attrs.owner());
                }
            }
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
        } catch (IOException e) {
            throw new PolarException("could not rewrite " + target + ": " + e, e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original is intact; a stray temporary file is all that is left
                }
            }
        }
    }
}
