package dev.polarscale.core;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FreePortsTest {

    @Test
    void picksABindablePortBelowTheEphemeralRange() throws Exception {
        int low = FreePorts.ephemeralLow();
        assertTrue(low > FreePorts.LOWEST, "this machine's ephemeral range starts at " + low);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            int port = FreePorts.pick("127.0.0.1");
            assertTrue(port >= FreePorts.LOWEST && port < low,
                    port + " is outside " + FreePorts.LOWEST + ".." + (low - 1));
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
                assertEquals(port, s.getLocalPort());
            }
            seen.add(port);
        }
        assertTrue(seen.size() > 1, "twenty picks gave one port: " + seen);
    }

    @Test
    void neverPicksAPortSomeoneListensOn() throws Exception {
        int low = FreePorts.ephemeralLow();
        // hold every second port of a small range, then pick many times: a held port is never returned
        Set<Integer> held = new HashSet<>();
        java.util.List<ServerSocket> sockets = new java.util.ArrayList<>();
        try {
            for (int p = FreePorts.LOWEST; p < Math.min(low, FreePorts.LOWEST + 2000); p += 2) {
                try {
                    sockets.add(new ServerSocket(p, 1, InetAddress.getByName("127.0.0.1")));
                    held.add(p);
                } catch (java.io.IOException taken) {
                    // someone else's; it is not free either
                }
            }
            for (int i = 0; i < 200; i++) {
                int port = FreePorts.pick("127.0.0.1");
                assertTrue(!held.contains(port), port + " is held by this test");
            }
        } finally {
            for (ServerSocket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void anUnresolvableHostIsNamed() {
        // a malformed IPv6 literal fails without a DNS query (tests send nothing beyond loopback)
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FreePorts.pick("[::1"));
        assertTrue(e.getMessage().contains("[::1"), e.getMessage());
    }
}
