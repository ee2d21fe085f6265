package dev.polarscale.core;

/**
 * Run in a JVM of its own by {@link EmbeddedWithoutDecompressorsIT}: looks up server binaries as
 * a consumer would ({@code -Dpolarscale.pg.embedded=true} skips the system installs) and prints
 * what it got: {@code bin=DIR}, or {@code reason=REASON} and the message, or the throwable.
 */
public final class EmbeddedProbeMain {
    private EmbeddedProbeMain() {
    }

    public static void main(String[] args) {
        try {
            System.out.println("bin=" + PgBinaries.locate().binDir());
        } catch (PolarException e) {
            System.out.println("reason=" + e.reason());
            System.out.println("message=" + e.getMessage());
            System.exit(3);
        } catch (Throwable t) {
            System.out.println("throwable=" + t);
            System.exit(4);
        }
    }
}
