package dev.polarscale.examples.cli;

import dev.polarscale.core.PolarException;
import dev.polarscale.core.PolarException.Reason;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The exit codes of {@code polarscale}: one per group of {@link PolarException.Reason}s a script
 * can act on differently (retry later, fix the command, fix a host, give up). The table is in
 * {@code --help} and in the README; {@code ExitCodesTest} checks every reason has a group.
 */
final class ExitCodes {
    static final int OK = 0;
    /** Not a {@link PolarException}, or reason {@code OTHER}: a bug or something unforeseen. */
    static final int UNEXPECTED = 1;
    /** A bad command line or cluster file, or a request the cluster cannot take; nothing ran. */
    static final int USAGE = 64;
    /** Ctrl-C, or the thread was interrupted. */
    static final int INTERRUPTED = 130;

    /** A group of reasons and its code. */
    enum Group {
        NOT_FOUND(10, "not found: no such node; a cluster not adopted", Reason.NODE_NOT_FOUND, Reason.NOT_ADOPTED),
        CONFLICT(11, "conflict: name, port, directory, slot, host id taken; no free slot",
                Reason.PORT_IN_USE, Reason.DIRECTORY_NOT_EMPTY, Reason.DATA_DIRECTORY_EXISTS, Reason.NODE_EXISTS,
                Reason.HOST_ID_TAKEN, Reason.SLOT_EXISTS, Reason.SLOT_ACTIVE, Reason.NO_FREE_SLOT,
                Reason.NOT_A_PRIMARY, Reason.MEMBERSHIP_CHANGED),
        UNREACHABLE(12, "unreachable: a host or server did not answer, a connection broke",
                Reason.HOST_UNREACHABLE, Reason.SERVER_UNREACHABLE, Reason.CONNECTION_LOST),
        AUTH(13, "refused: login, password, host key or OS permission",
                Reason.AUTH_FAILED, Reason.HOST_KEY_REJECTED, Reason.PERMISSION_DENIED),
        TIMEOUT(14, "timeout: a command or wait, or the lock another operation holds",
                Reason.TIMEOUT, Reason.LOCK_TIMEOUT),
        NODE_FAILED(15, "new node failed: no start, writable, not streaming, canary not seen",
                Reason.START_FAILED, Reason.WRITABLE_FOLLOWER, Reason.NOT_STREAMING, Reason.STALE_DATA),
        STORAGE(16, "shared storage: device unsuitable, not empty, not formatted, invalid",
                Reason.DEVICE_UNSUITABLE, Reason.DEVICE_NOT_EMPTY, Reason.DEVICE_STATE_UNKNOWN,
                Reason.STORAGE_INVALID, Reason.DEVICE_NOT_FORMATTED),
        ENVIRONMENT(17, "failed: a command, a statement, an interrupted operation; no binaries",
                Reason.COMMAND_FAILED, Reason.BINARIES_MISSING, Reason.SQL_ERROR,
                Reason.INTERRUPTED_OPERATION),
        INTERRUPTED(ExitCodes.INTERRUPTED, "interrupted", Reason.INTERRUPTED);

        private final int code;
        private final String meaning;
        private final List<Reason> reasons;

        Group(int code, String meaning, Reason... reasons) {
            this.code = code;
            this.meaning = meaning;
            this.reasons = List.of(reasons);
        }

        int code() {
            return code;
        }

        String meaning() {
            return meaning;
        }

        List<Reason> reasons() {
            return reasons;
        }
    }

    private static final Map<Reason, Group> GROUPS = new EnumMap<>(Reason.class);

    static {
        for (Group g : Group.values()) {
            for (Reason r : g.reasons) {
                if (GROUPS.put(r, g) != null) {
                    throw new ExceptionInInitializerError("reason " + r + " is in two groups");
                }
            }
        }
    }

    private ExitCodes() {
    }

    /** The group of a reason; empty for {@code OTHER} and for a reason added after this table. */
    static java.util.Optional<Group> group(Reason reason) {
        return java.util.Optional.ofNullable(GROUPS.get(reason));
    }

    /** The exit code for a failure. */
    static int of(Throwable failure) {
        if (failure instanceof ClusterFileException || failure instanceof IllegalArgumentException
                || failure instanceof IllegalStateException) {
            return USAGE;
        }
        if (failure instanceof InterruptedException) {
            return INTERRUPTED;
        }
        if (failure instanceof PolarException p) {
            return group(p.reason()).map(Group::code).orElse(UNEXPECTED);
        }
        return UNEXPECTED;
    }

    /** The table for {@code --help}: one line per code. */
    static List<String> table() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format("%4d  %s", OK, "success"));
        lines.add(String.format("%4d  %s", UNEXPECTED, "unexpected error (reason OTHER, or a bug)"));
        for (Group g : Group.values()) {
            lines.add(String.format("%4d  %s", g.code, g.meaning));
        }
        lines.add(String.format("%4d  %s", USAGE, "usage: bad command line or cluster file; nothing was changed"));
        lines.sort(java.util.Comparator.comparingInt(l -> Integer.parseInt(l.substring(0, 4).strip())));
        return lines;
    }
}
