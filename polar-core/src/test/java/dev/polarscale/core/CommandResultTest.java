package dev.polarscale.core;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CommandResultTest {

    @Test
    void tailOfNothingIsEmpty() {
        assertEquals("", CommandResult.tail("", 3));
        assertEquals("", CommandResult.tail("\n \n", 3));
        assertEquals("", new CommandResult(1, "", "", Duration.ZERO).stderrTail(20));
    }

    @Test
    void tailKeepsTheLastLines() {
        assertEquals("b\nc", CommandResult.tail("a\nb\nc\n", 2));
        assertEquals("a\nb\nc", CommandResult.tail("a\nb\nc", 5));
    }
}
