"""What the chapters and the graded notebooks import: the running example, maths, figures.

Guarantee: nothing here imports from grading, sandbox or trusted, so a reader or a student needs
only NumPy, Matplotlib and SymPy to use it.
"""
