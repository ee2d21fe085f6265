package dev.polarscale.core;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A free TCP port for a server started a moment later, chosen <em>below</em> the kernel's ephemeral range.
 *
 * <p>{@code new ServerSocket(0)} hands out a port from the ephemeral range
 * ({@code net.ipv4.ip_local_port_range}, 32768&ndash;60999 on Linux), the same range every outgoing
 * connection on the machine takes its source port from. Between choosing the port and the server binding
 * it, any client socket (a JDBC connection, Maven downloading, an SSH session) may take it, and the server
 * fails with "could not bind ... Address already in use". A port below the range is never given to a
 * client socket, so only another server choosing the same port can collide, and the random choice over
 * thousands of ports makes that rare. Where no such port is free (or the range cannot be read), the
 * ephemeral port of {@code ServerSocket(0)} is returned as before.
 *
 * <pre>{@code
 * int port = FreePorts.pick("127.0.0.1");
 * NodeSpec standby = NodeSpec.builder().name("standby1").port(port).dataDirectory(dir).build();
 * }</pre>
 *
 * <p>The port is free when this method returns; nothing reserves it. Use it for servers on this machine
 * that start right after, as {@code LocalCluster} does.
 */
public final class FreePorts {

    /** The lowest port chosen: well above the registered ports in common use on a build machine. */
    static final int LOWEST = 20_000;
    private static final Path RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    private static final int ATTEMPTS = 50;

    private FreePorts() {
    }

    /**
     * A port that can be bound on {@code host} now, outside the ephemeral range where possible.
     *
     * @throws IllegalArgumentException when {@code host} is not an address of this machine's resolver
     * @throws PolarException ({@link PolarException.Reason#PORT_IN_USE}) when no port at all can be bound
     */
    public static int pick(String host) {
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (IOException e) {
            throw new IllegalArgumentException("host cannot be resolved: " + host, e);
        }
        int top = ephemeralLow() - 1;
        if (top > LOWEST) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < ATTEMPTS; i++) {
                int port = random.nextInt(LOWEST, top + 1);
                if (bindable(address, port)) {
                    return port;
                }
            }
        }
        try (ServerSocket s = new ServerSocket(0, 1, address)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new PolarException(PolarException.Reason.PORT_IN_USE, "no free port on " + host + ": " + e.getMessage(), e);
        }
    }

    /** The first port of the ephemeral range, 32768 when the kernel does not say. */
    static int ephemeralLow() {
        // a line reader: Files.readString reads one byte of this procfs file (it reports size 0)
        try (BufferedReader r = Files.newBufferedReader(RANGE)) {
            String[] range = r.readLine().trim().split("\\s+");
            return Integer.parseInt(range[0]);
        } catch (IOException | RuntimeException e) {
            return 32_768;
        }
    }

    private static boolean bindable(InetAddress address, int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(address, port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
