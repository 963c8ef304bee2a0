"""Tries: fork as many processes as it can (a fork bomb), each child sleeping to hold its slot.

Expect: fork fails (BlockingIOError, EAGAIN) after fewer than RLIMIT_NPROC forks.
Safety: refuses to run as root (root ignores RLIMIT_NPROC) or without RLIMIT_NPROC <= 1000;
forks at most 1000 times; each child exits by itself after 3 s; the parent kills and reaps all.
"""

import json
import os
import resource
import signal
import time

CAP = 1000
soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
result = {"limit": soft, "uid": os.getuid()}
if os.getuid() == 0 or soft == resource.RLIM_INFINITY or soft > CAP:
    result["guard"] = "root or no process limit of at most 1000: not forking"
else:
    children = []
    try:
        for _ in range(CAP):
            pid = os.fork()
            if pid == 0:
                time.sleep(3)
                os._exit(0)
            children.append(pid)
        result["error"] = None
    except OSError as err:
        result["error"] = type(err).__name__
    result["forked"] = len(children)
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in children:
        os.waitpid(pid, 0)
print("RESULT " + json.dumps(result))
