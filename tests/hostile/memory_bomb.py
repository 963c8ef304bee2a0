"""Tries: allocate 50 GB at once, then eat memory 100 MB at a time (touching every page).

Expect: MemoryError for both, the kernel alive afterwards, the machine untouched.
Safety: refuses to allocate unless RLIMIT_AS is set to at most 4 GiB; the gradual part stops at
40 chunks (4 GB) whatever happens.
"""

import json
import resource

soft, _ = resource.getrlimit(resource.RLIMIT_AS)
result = {"limit": soft}
if soft == resource.RLIM_INFINITY or soft > 4 << 30:
    result["guard"] = "no address-space limit of at most 4 GiB: not allocating"
else:
    try:
        block = bytearray(50 * 10**9)
        result["big"] = "allocated"
        del block
    except MemoryError:
        result["big"] = "MemoryError"
    chunks = []
    try:
        for _ in range(40):
            chunks.append(bytearray(100 * 10**6))  # zero-filled: every page is touched
        result["gradual"] = "no error after 4 GB"
    except MemoryError:
        result["gradual"] = "MemoryError"
    result["gradual_mb"] = 100 * len(chunks)
    del chunks
print("RESULT " + json.dumps(result))
