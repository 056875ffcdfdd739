package io.isthmus.engine.export.vhostuser.jcstress;

import io.isthmus.engine.JcstressRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the split-ring publication and notification jcstress tests ({@link VirtqueueStress}) through
 * {@link JcstressRunner}: the real protocol must pass, and the deliberately broken driver (no fence between
 * re-enabling interrupts and re-checking) must be caught, which shows the run exercises the race.
 */
class VirtqueueJcstressTest {
    @Test
    @Timeout(value = 170, unit = TimeUnit.SECONDS)
    void publicationAndNotificationHoldAndTheBrokenDriverIsCaught(@TempDir Path dir) throws Exception {
        JcstressRunner.runAndCheck(dir, "vhostuser\\.jcstress\\.VirtqueueStress\\.",
                "io.isthmus.engine.export.vhostuser.jcstress.VirtqueueStress.",
                List.of("AvailPublication", "UsedPublication", "NoLostInterrupt", "NoLostKick", "NoLostKickWithFlags"),
                "BrokenInterruptNoFence");
    }
}
