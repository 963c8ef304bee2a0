"""The grading pipeline of `softmax-course grade`: intake → execute → grade → feedback → report.

Guarantee: a broken or hostile submission never stops a run or changes another student's grade.
Data flows one way: a step imports only the steps before it (`pipeline` ties them together), and
nbgrader is extended through its preprocessors (`preprocessors/`, one per file) and its config.
"""
