"""Tries: read the solutions, the gradebook, another student's work, and the whole visible tree.

Expect: every target raises FileNotFoundError or PermissionError; a walk of everything the kernel
can see but the read-only system trees PARAMS["skip"] (bounded to 200,000 entries) finds no
solutions folder, gradebook or other student; the folders PARAMS["list"] hold only the sandbox's.
"""

import json
import os

PARAMS = globals().get("PARAMS", {})
errors, opened = {}, []
for path in PARAMS.get("targets", []):
    try:
        with open(path, "rb") as handle:
            handle.read(16)
        opened.append(path)
    except OSError as err:
        errors[path] = type(err).__name__

seen, found = 0, []
words = [w.lower() for w in PARAMS.get("forbidden_words", [])]
skip = tuple(PARAMS.get("skip", [])) + ("/proc", "/sys")
for top, dirs, files in os.walk("/"):
    if top.startswith(skip):
        dirs[:] = []
        continue
    for name in dirs + files:
        seen += 1
        if any(w in os.path.join(top, name).lower() for w in words):
            found.append(os.path.join(top, name))
    if seen > 200_000:
        break
listings = {}
for folder in PARAMS.get("list", []):
    try:
        listings[folder] = sorted(os.listdir(folder))
    except OSError as err:
        listings[folder] = type(err).__name__
print("RESULT " + json.dumps({"opened": opened, "errors": errors, "found": found[:20],
                              "walked": seen, "listings": listings}))
