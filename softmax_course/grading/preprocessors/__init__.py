"""nbgrader preprocessors of this course, one per file, added to nbgrader's lists through config."""
