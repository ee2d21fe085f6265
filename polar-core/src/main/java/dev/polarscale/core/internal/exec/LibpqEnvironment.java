package dev.polarscale.core.internal.exec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The libpq environment variables that change how a PostgreSQL program connects or
 * authenticates. PolarScale's commands get what they need explicitly (a base backup's
 * {@code PGPASSWORD}, a follower's {@code passfile}); a value inherited from whoever runs the
 * JVM would otherwise win over it: libpq prefers {@code PGPASSWORD} to a {@code passfile}, so an
 * exported {@code PGPASSWORD} of the caller's reaching a follower's walreceiver ends in
 * {@code password authentication failed}.
 */
public final class LibpqEnvironment {
    /** The variables, as named in libpq's documentation ("Environment Variables"). */
    public static final List<String> NAMES = List.of("PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE",
            "PGOPTIONS", "PGAPPNAME", "PGSSLMODE", "PGREQUIRESSL", "PGSSLNEGOTIATION", "PGSSLCOMPRESSION",
            "PGSSLCERT", "PGSSLKEY", "PGSSLCERTMODE", "PGSSLROOTCERT", "PGSSLCRL", "PGSSLCRLDIR", "PGSSLSNI",
            "PGREQUIREPEER", "PGREQUIREAUTH", "PGSSLMINPROTOCOLVERSION", "PGSSLMAXPROTOCOLVERSION",
            "PGCHANNELBINDING", "PGGSSENCMODE", "PGKRBSRVNAME", "PGGSSLIB", "PGGSSDELEGATION",
            "PGCONNECT_TIMEOUT", "PGCLIENTENCODING", "PGTARGETSESSIONATTRS", "PGLOADBALANCEHOSTS", "PGHOST",
            "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER");

    private LibpqEnvironment() {
    }

    /** {@code env -u NAME ...}: an argv prefix that runs the rest without any of them. */
    public static List<String> unsetPrefix() {
        List<String> argv = new ArrayList<>(List.of("env"));
        for (String name : NAMES) {
            argv.add("-u");
            argv.add(name);
        }
        return argv;
    }

    /** Removes the variables from an inherited environment (in place). */
    public static void strip(Map<String, String> inherited) {
        NAMES.forEach(inherited::remove);
    }
}
