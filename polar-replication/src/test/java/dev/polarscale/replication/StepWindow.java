package dev.polarscale.replication;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Wall-clock window of an operation's steps under the cluster lock: from the moment the "lock"
 * step has the lock (or, for an operation without one, its first step's start) to the last
 * step's end. The wait for the lock itself is not part of the window.
 */
final class StepWindow implements ScaleListener {
    private final AtomicLong first = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong last = new AtomicLong(Long.MIN_VALUE);

    @Override
    public void stepStarted(String operation, String step) {
        if (!step.equals("lock")) {
            first.accumulateAndGet(System.currentTimeMillis(), Math::min);
        }
    }

    @Override
    public void stepFinished(String operation, String step, Duration took) {
        long now = System.currentTimeMillis();
        if (step.equals("lock")) {
            first.accumulateAndGet(now, Math::min);
        }
        last.accumulateAndGet(now, Math::max);
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
