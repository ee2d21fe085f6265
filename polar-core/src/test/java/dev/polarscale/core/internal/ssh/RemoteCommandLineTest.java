package dev.polarscale.core.internal.ssh;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RemoteCommandLineTest {

    @Test
    void everyArgumentIsQuotedAndExeced() {
        assertEquals("exec 'printf' '%s\\n' 'it'\\''s $HOME'",
                SshCommandExecutor.remoteCommandLine(List.of("printf", "%s\\n", "it's $HOME"), null));
    }

    @Test
    void workingDirectoryIsEnteredFirst() {
        assertEquals("cd '/var/lib/it'\\''s' && exec 'pwd'",
                SshCommandExecutor.remoteCommandLine(List.of("pwd"), Path.of("/var/lib/it's")));
    }

    @Test
    void nulIsRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> SshCommandExecutor.remoteCommandLine(List.of("echo", "a\0b"), null));
    }

    @Test
    void exitSignalBecomesShellStyleExitCode() {
        assertEquals(137, SshCommandExecutor.exitCodeForSignal("KILL"));
        assertEquals(143, SshCommandExecutor.exitCodeForSignal("TERM"));
        assertEquals(129, SshCommandExecutor.exitCodeForSignal("SIGHUP"));
        assertEquals(255, SshCommandExecutor.exitCodeForSignal("XCPU@openssh.com"));
    }
}
