package dev.polarscale.core;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** ShellQuoting proven by round-tripping random strings through a real /bin/sh. */
class ShellQuotingIT {

    @Test
    void thousandRandomStringsSurviveSh() {
        Random rnd = new Random(20261125);
        int[] specials = "'\"\\$`!*?[]{}()<>|&;#~= \t\n\r%^-".codePoints().toArray();
        List<String> args = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            StringBuilder sb = new StringBuilder();
            int len = rnd.nextInt(24);
            for (int j = 0; j < len; j++) {
                int kind = rnd.nextInt(4);
                if (kind == 0) {
                    sb.appendCodePoint(specials[rnd.nextInt(specials.length)]);
                } else if (kind == 1) {
                    sb.appendCodePoint(0x4e00 + rnd.nextInt(500));
                } else if (kind == 2) {
                    sb.appendCodePoint(0x1F600 + rnd.nextInt(50));
                } else {
                    sb.append((char) ('a' + rnd.nextInt(26)));
                }
            }
            args.add(sb.toString());
        }
        CommandExecutor local = Executors.local();
        for (int from = 0; from < args.size(); from += 250) {
            List<String> batch = args.subList(from, from + 250);
            List<String> argv = new ArrayList<>(List.of("printf", "%s\\0"));
            argv.addAll(batch);
            String script = ShellQuoting.join(argv);
            String[] back = local.run(Command.of("/bin/sh", "-c", script)).stdout().split("\0", -1);
            assertEquals(batch.size() + 1, back.length);
            for (int i = 0; i < batch.size(); i++) {
                assertEquals(batch.get(i), back[i], "string " + (from + i));
            }
        }
    }
}
