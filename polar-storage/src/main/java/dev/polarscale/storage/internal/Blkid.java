package dev.polarscale.storage.internal;

import dev.polarscale.core.Command;
import dev.polarscale.core.CommandExecutor;
import dev.polarscale.core.CommandResult;
import dev.polarscale.core.PolarException.Reason;
import dev.polarscale.storage.DeviceName;
import dev.polarscale.storage.StorageException;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * {@code blkid -p -o export <dev>} (a low-level probe of the device itself, not the cache): exit 2
 * with no output means no file system or partition table signature; exit 0 (or 8, ambivalent)
 * names what it found; anything else leaves the question open, which callers must treat as "not
 * empty" when they are about to destroy something.
 */
public final class Blkid {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private Blkid() {
    }

    /** What {@code blkid -p} found. */
    public record Signature(String what, String details, boolean ambivalent) {
        /** E.g. {@code a file system (blkid -p: TYPE=ext4 ...)}. */
        public String describe() {
            return what + " (blkid -p" + (ambivalent ? " exited 8, ambivalent" : "") + ": " + details + ")";
        }
    }

    /**
     * The signature on the device, or empty when it provably has none.
     *
     * @param action what the caller was about to do, for the message ({@code refusing to format})
     * @throws StorageException {@link Reason#DEVICE_STATE_UNKNOWN} when blkid does not tell
     */
    public static Optional<Signature> probe(CommandExecutor executor, DeviceName device, String action) {
        CommandResult r = executor.execute(Command.of("blkid", "-p", "-o", "export", device.devicePath())
                .withTimeout(TIMEOUT).privileged());
        if (r.exitCode() == 2 && r.stdout().isBlank()) {
            return Optional.empty();
        }
        if (r.exitCode() == 0 || r.exitCode() == 8) {
            Map<String, String> found = new LinkedHashMap<>();
            for (String line : r.stdout().split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0 && !line.startsWith("DEVNAME=")) {
                    found.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            String what = found.containsKey("PTTYPE") && !found.containsKey("TYPE") ? "a partition table" : "a file system";
            String details = found.isEmpty() ? outputTail(r) : found.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
            return Optional.of(new Signature(what, details, r.exitCode() == 8));
        }
        String output = outputTail(r);
        throw new StorageException(Reason.DEVICE_STATE_UNKNOWN, executor.host(), executor.host() + " - " + action + " "
                + device.devicePath() + ": cannot tell whether it is empty: blkid -p -o export " + device.devicePath()
                + " exited " + r.exitCode() + " (" + (output.isEmpty() ? "no output" : output) + ")");
    }

    /**
     * The tail of a storage tool's stdout (two lines: {@code pfs} and {@code blkid} print their errors
     * there) and of its stderr (three lines), joined by {@code " / "} when both have some.
     */
    public static String outputTail(CommandResult r) {
        String out = CommandResult.tail(r.stdout(), 2).strip();
        String err = r.stderrTail(3).strip();
        return out.isEmpty() ? err : err.isEmpty() ? out : out + " / " + err;
    }
}
