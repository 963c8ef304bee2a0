"""Judge a submission's tests outside its kernel, where the student's code cannot reach them.

Code that runs in the same interpreter as the tests can always fool them: a wrong softmax plus
`numpy.testing.assert_allclose = lambda *a, **k: None` scores full marks in plain nbgrader, with or
without a sandbox. So, once the submission has run in its kernel, `verify_async` runs every test
cell again, taken from the SOURCE notebook in solutions/ (never from the submission), in this
trusted process: a fresh namespace, the genuine numpy, numpy.testing, sympy and math, and a private
copy of `warnings`. Each answer function (`<function>_answer` cells) is bound to a proxy. Calling a
proxy sends one comm message into the kernel: a helper, injected fresh right before verification
(with a comm target of its own), calls the student's function there and hands back JSON data only
(numbers with nan/inf, lists, tuples, dicts, str, bytes, ndarrays as dtype/shape/bytes, SymPy
objects as srepr text that is rebuilt here by a whitelisted AST walk, never eval, sympify or
pickle), plus the warnings the call raised, the exception it raised (rebuilt here as the same
builtin type, or a class of the same name derived from its builtin bases), the stderr it wrote, its
peak traced memory when the test traces memory, and the final state of the ndarray arguments (so a
function that changes its input in place is caught as it is in the kernel). Whatever the kernel
returns is just data: the comparison with the expected values happens here.

Details a grader should know:
- Callables passed to a student function: a proxy travels by name; a function defined by the
  test cell travels as its source code, with the values of the names it uses, and is defined in
  the kernel (its outputs only feed the student's function, whose output is judged here);
  numpy/math/sympy functions travel as importable names.
- Warnings are re-emitted here with the private `warnings` copy, so `catch_warnings(record=True)`
  in a test records them; warnings nobody records are dropped, as nbgrader drops warning-only
  stderr. Warnings raised by the trusted side's own numpy go to the real `warnings` module.
- Memory: `import tracemalloc` in a test cell gets a shim whose `get_traced_memory()` reports
  what the kernel traced during the proxied calls made while tracing (allocations of the test
  code itself are not counted). The figure comes from the kernel: a student who also fakes
  tracemalloc in the kernel can lie about memory, not about values.
- Limits: each proxied call has `timeout` seconds (then the kernel is interrupted and the cell
  fails "timed out"; a kernel that does not answer the interrupt fails every later call the same
  way); each cell has `cell_timeout` seconds of trusted-side work; a dead kernel fails the cell
  and all later ones with "kernel died".
- Not protected: the kernel sees each call's inputs (as in nbgrader) and may answer anything, so
  answers hard-coded for the visible tests' inputs still pass those tests (hidden tests are the
  defence); memory figures (above); arguments are copies, so aliasing between arguments and
  results is lost (in-place changes to ndarray arguments are copied back).

Use (the grading engine, after executing the submission in `client`'s kernel):
    verdicts = await verify_async(client, source_nb, timeout=30)
    flagged = tampering(kernel_points(executed_nb), verdicts)  # "tampering suspected" cells

The package, in the order a call travels:
- `driver`: `verify_async` and `verify`, which run a whole verification.
- `cells`: which cells of the source notebook run on the trusted side.
- `session`: the trusted namespace, the proxies, the test cells in threads with time limits.
- `shims`: the private `warnings` and the `tracemalloc` the test cells import.
- `link`: the asyncio side of talking to the kernel, with time limits and interrupts.
- `kernel_helper`: the helper defined in the kernel, built from the codec's source.
- `codec` and `srepr`: values as JSON-ready data, SymPy objects rebuilt by a whitelisted walk.
- `errors`: the exceptions of a verification, and those rebuilt from the student's code.
- `verdicts`: `TrustedVerdict`, the grading of a cell, `kernel_points` and `tampering`.
"""

from softmax_course.trusted.codec import Opaque, OpaqueArrayLike
from softmax_course.trusted.driver import CellByCell, verify, verify_async
from softmax_course.trusted.errors import CallTimedOut, KernelDied, UnreadableResult
from softmax_course.trusted.verdicts import TrustedVerdict, kernel_points, tampering

__all__ = [
    "CallTimedOut",
    "CellByCell",
    "KernelDied",
    "Opaque",
    "OpaqueArrayLike",
    "TrustedVerdict",
    "UnreadableResult",
    "kernel_points",
    "tampering",
    "verify",
    "verify_async",
]
