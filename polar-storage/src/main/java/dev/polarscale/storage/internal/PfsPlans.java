package dev.polarscale.storage.internal;

import dev.polarscale.core.Command;
import dev.polarscale.storage.BlockDevices;
import dev.polarscale.storage.DeviceName;
import dev.polarscale.storage.Pfs;
import dev.polarscale.storage.PfsClient;
import dev.polarscale.storage.PfsPath;
import dev.polarscale.storage.PfsSharedStorage;

import java.util.ArrayList;
import java.util.List;

/**
 * The commands each {@link PfsSharedStorage} call runs, rendered as {@link Command#toString()} renders
 * them ({@code [root]} for privileged ones), each with the condition it runs under: what a plan shows.
 * Kept next to {@link PfsStorage} so that both change together.
 */
final class PfsPlans {
    private PfsPlans() {
    }

    static List<String> commands(PfsSharedStorage s, long minimumBytes, PfsSharedStorage.Phase phase) {
        DeviceName dev = s.device();
        List<String> out = new ArrayList<>();
        switch (phase) {
            case FORMAT -> {
                out.add(lsblk(dev, minimumBytes));
                out.add(pgrep(dev) + "  -- no pfsd runs for it");
                out.add(Command.of("blkid", "-p", "-o", "export", dev.devicePath()).privileged()
                        + "  -- no file system or partition table signature (exit 2)");
                out.add(pfs(s.pfs(), "-E", "0", "ls", PfsPath.root(dev).asDirectory())
                        + "  -- PFS's own \"no file system\" (exit 5, chunk 0 magic 0)");
                out.add(Command.of("mkdir", "-p", "/var/run/pfs").privileged().toString());
                out.add(pfs(s.pfs(), "mkfs", dev.name()) + "  -- only when all of the above hold: DESTROYS what "
                        + dev.devicePath() + " holds");
            }
            case ATTACH -> attach(s, minimumBytes, out);
            case CHECK_NEW_CLUSTER -> {
                PfsPath level = PfsPath.root(dev);
                for (String c : s.directory().components()) {
                    out.add(pfs(s.pfs(), "ls", level.asDirectory()) + "  -- nothing but " + (level.isRoot()
                            ? "PFS's own files, " : "") + c + " and empty directories: no other cluster on this PFS");
                    level = level.resolve(c);
                }
                out.add(pfs(s.pfs(), "ls", level.asDirectory()) + "  -- absent or empty");
                out.add(pfs(s.pfs(), "info", dev.name()) + "  -- at least " + PfsClient.PRIMARY_INITDB_BLOCKS
                        + " free 4 MiB blocks and " + PfsClient.PRIMARY_INITDB_FILES + " free files for initdb");
            }
            case CREATE_DIRECTORY -> {
                PfsPath p = PfsPath.root(dev);
                for (String c : s.directory().components()) {
                    p = p.resolve(c);
                    out.add(pfs(s.pfs(), "stat", p.toString()) + "  -- unless it exists: " + pfs(s.pfs(), "mkdir",
                            p.toString()));
                }
            }
            case MOUNT -> {
                attach(s, minimumBytes, out);
                out.add(pfs(s.pfs(), "stat", s.directory().resolve("global").resolve("pg_control").toString())
                        + "  -- the cluster is there; never created here");
            }
        }
        return List.copyOf(out);
    }

    private static void attach(PfsSharedStorage s, long minimumBytes, List<String> out) {
        DeviceName dev = s.device();
        out.add(lsblk(dev, minimumBytes));
        out.add(pfs(s.pfs(), "-E", "0", "ls", PfsPath.root(dev).asDirectory()) + "  -- holds a PFS file system, "
                + "else refused (never formatted here)");
        out.add(pgrep(dev) + "  -- pfsd runs for " + dev + "; unless it does:");
        out.add(Command.of(s.pfs().startScript().toString(), "-p", dev.name(), "-w", Integer.toString(s.pfs().workers()))
                .privileged() + "  -- output in /var/log/pfsd-" + dev + ".start.log; then pgrep again");
    }

    private static String lsblk(DeviceName dev, long minimumBytes) {
        long min = Math.max(minimumBytes, BlockDevices.PFS_MINIMUM_BYTES);
        return Command.of("lsblk", "-b", "-P", "-o", LsblkParser.COLUMNS) + "  -- " + dev.devicePath()
                + ": a whole disk, multipath or loop device, writable, nothing mounted or stacked on it, at least "
                + (min % (1L << 30) == 0 ? (min >> 30) + " GiB" : min + " bytes");
    }

    private static String pgrep(DeviceName dev) {
        return Command.of("pgrep", "-f", PfsClient.daemonPattern(dev)).toString();
    }

    private static String pfs(Pfs pfs, String... args) {
        List<String> argv = new ArrayList<>(List.of(pfs.pfsCommand(), "-C", pfs.clusterName()));
        argv.addAll(List.of(args));
        return Command.of(argv).privileged().toString();
    }
}
