"""Tries: find the grader's secrets in the environment, in other processes' /proc/*/environ,
and signal the grader's process.

Expect: no secret anywhere, JPY_PARENT_PID unset, the grader's pid does not exist here.
"""

import json
import os

PARAMS = globals().get("PARAMS", {})
secret = PARAMS.get("secret_value", "")
in_environ = [k for k, v in os.environ.items() if secret and secret in v]
in_proc = []
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if secret and secret.encode() in handle.read():
                    in_proc.append(pid)
        except OSError:
            pass
try:
    os.kill(PARAMS.get("grader_pid", 1), 0)
    grader = "reachable"
except ProcessLookupError:
    grader = "no such process"
except PermissionError:
    grader = "permission denied"
print("RESULT " + json.dumps({
    "in_environ": in_environ, "in_proc": in_proc, "names": sorted(os.environ),
    "jpy_parent_pid": os.environ.get("JPY_PARENT_PID"), "grader": grader,
}))
