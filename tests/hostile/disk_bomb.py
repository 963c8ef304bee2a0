"""Tries: write one huge file in the working copy, and fill /tmp with many files.

Expect: the big file stops at RLIMIT_FSIZE with "File too large"; /tmp (a private tmpfs) fills up
at its size with "No space left on device".
Safety: refuses unless RLIMIT_FSIZE <= 256 MiB; writes at most 1 GiB in all to one file and at
most 80 files of 8 MiB to /tmp; deletes everything it wrote.
"""

import json
import os
import resource
import tempfile

soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
result = {"limit": soft}
chunk = b"x" * (1 << 20)
if soft == resource.RLIM_INFINITY or soft > 256 << 20:
    result["guard"] = "no file-size limit of at most 256 MiB: not writing"
else:
    written = 0
    try:
        with open("huge.bin", "wb", buffering=0) as handle:
            for _ in range(1024):
                written += handle.write(chunk)
        result["big_file"] = "no error after 1 GiB"
    except OSError as err:
        result["big_file"] = err.strerror
    result["big_file_mb"] = written >> 20
    os.remove("huge.bin")
    names, tmp_written = [], 0
    try:
        for i in range(80):
            name = os.path.join(tempfile.gettempdir(), f"fill-{i}.bin")
            names.append(name)
            with open(name, "wb", buffering=0) as handle:
                for _ in range(8):
                    tmp_written += handle.write(chunk)
        result["tmp"] = "no error after 640 MiB"
    except OSError as err:
        result["tmp"] = err.strerror
    result["tmp_mb"] = tmp_written >> 20
    for name in names:
        if os.path.exists(name):
            os.remove(name)
print("RESULT " + json.dumps(result))
