package dev.polarscale.replication;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** Wall-clock window of an operation's steps: the first step's start to the last step's end. */
final class StepWindow implements ScaleListener {
    private final AtomicLong first = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong last = new AtomicLong(Long.MIN_VALUE);

    @Override
    public void stepStarted(String operation, String step) {
        first.accumulateAndGet(System.currentTimeMillis(), Math::min);
    }

    @Override
    public void stepFinished(String operation, String step, Duration took) {
        last.accumulateAndGet(System.currentTimeMillis(), Math::max);
    }

    @Override
    public void stepFailed(String operation, String step, Throwable cause) {
        last.accumulateAndGet(System.currentTimeMillis(), Math::max);
    }

    long first() {
        return first.get();
    }

    long last() {
        return last.get();
    }

    static boolean overlap(long aFirst, long aLast, long bFirst, long bLast) {
        return aFirst < bLast && bFirst < aLast;
    }
}
