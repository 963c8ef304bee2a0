"""Softmax, Step by Step: the course's shared code (maths, running example, figures, tools)."""

__version__ = "0.1.0"
