"""Tries: start 5000 threads.

Expect: "can't start new thread" (RuntimeError) long before 5000, the kernel alive afterwards.
Safety: refuses to run as root or without RLIMIT_NPROC <= 1000; at most 5000 threads, each
waiting on one event that is set at the end (or after 10 s by itself).
"""

import json
import os
import resource
import threading

CAP = 5000
soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
result = {"limit": soft}
if os.getuid() == 0 or soft == resource.RLIM_INFINITY or soft > 1000:
    result["guard"] = "root or no process limit of at most 1000: not starting threads"
else:
    stop = threading.Event()
    threads = []
    try:
        for _ in range(CAP):
            thread = threading.Thread(target=stop.wait, args=(10,), daemon=True)
            thread.start()
            threads.append(thread)
        result["error"] = None
    except RuntimeError as err:
        result["error"] = str(err)
    result["started"] = len(threads)
    stop.set()
    for thread in threads:
        thread.join()
print("RESULT " + json.dumps(result))
