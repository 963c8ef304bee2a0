"""The grading pipeline of `softmax-course grade`: intake → execute → grade → feedback → report.

Guarantee: a broken or hostile submission never stops a run or changes another student's grade.
Data flows one way: a step imports only the steps before it (`pipeline` ties them together), and
nbgrader is extended through its preprocessors (`preprocessors/`, one per file) and its config.
"""

import sys

# jsonschema (which nbformat and nbgrader import) imports rfc3987_syntax, when installed, for its
# "iri" format checker, and that module builds a Lark parser as it is imported: 0.9 s of CPU at
# the start of every grading run, before any worker can start. No schema used in grading has an
# "iri" format, so grading does without that checker; a None entry makes the import fail, which
# jsonschema expects (it imports the module under `suppress(ImportError)`).
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
