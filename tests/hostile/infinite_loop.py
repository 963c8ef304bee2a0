"""Tries: spin the CPU forever.

Expect: nbclient's per-cell timeout interrupts it (KeyboardInterrupt, through an interrupt
message: signals do not cross the sandbox) or, with a low CPU limit, the kernel is killed.
Safety: the loop gives up by itself after 60 s of wall-clock time.
"""

import time

start = time.monotonic()
while time.monotonic() - start < 60:
    pass
print("RESULT " + '{"loop": "ran 60 s: nothing stopped it"}')
