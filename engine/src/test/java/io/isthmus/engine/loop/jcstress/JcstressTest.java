package io.isthmus.engine.loop.jcstress;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.isthmus.engine.JcstressRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the jcstress tests of the IoThread's task queue and wake-up protocol through {@link JcstressRunner}
 * (some 30 s in all on 2 cores). The real protocol must pass; the deliberately broken
 * variant ({@link BrokenWakeupStress}) must be caught, which shows the run actually exercises the race.
 */
class JcstressTest {
    @Test
    @Timeout(value = 170, unit = TimeUnit.SECONDS)
    void queueAndWakeupPassAndTheBrokenVariantIsCaught(@TempDir Path dir) throws Exception {
        String text = JcstressRunner.runAndCheck(dir, "jcstress\\.(WakeupStress|TaskQueueStress|BrokenWakeupStress)\\.",
                "io.isthmus.engine.loop.jcstress.",
                List.of("TaskQueueStress.TwoProducers", "TaskQueueStress.ProducerAndPollingConsumer",
                        "TaskQueueStress.ProducerOrder", "WakeupStress.NoLostWakeup", "WakeupStress.ExactlyOneSignal",
                        "WakeupStress.WakeThenSleepAgain"),
                "BrokenWakeupStress.CheckBeforeOffer");
        assertTrue(text.contains("lost wake-up"), "the broken variant's forbidden outcome is reported");
    }
}
