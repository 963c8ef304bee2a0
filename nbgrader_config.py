"""nbgrader configuration: https://nbgrader.readthedocs.io/en/stable/configuration/config_options.html"""

from nbgrader.converters import GenerateAssignment

from softmax_course.course import STDERR_WARNINGS_PATTERN
from softmax_course.grading.preprocessors.list_released_cells import ListReleasedCells

c = get_config()  # noqa: F821 (traitlets provides get_config when nbgrader loads this file)

c.CourseDirectory.course_id = "softmax-step-by-step"
c.CourseDirectory.source_directory = "solutions"  # instructor notebooks: answers + hidden tests
c.CourseDirectory.release_directory = "exercises"  # student notebooks, generated and committed

# A release lists its cells in each notebook's metadata (after nbgrader's own steps), so that
# `softmax-course check` can tell a student which released cell is missing.
c.GenerateAssignment.preprocessors = [
    *GenerateAssignment.class_traits()["preprocessors"].default(),
    ListReleasedCells,
]

# Each cell gets 30 s; a runaway cell is interrupted and later cells still run.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
# `softmax-course grade` also bounds a whole notebook (grading/preprocessors/limited_execute.py);
# once it is spent, the remaining cells fail with "the notebook timed out after 120 s".
c.LimitedExecute.notebook_timeout = 120

# A deleted test cell comes back from the gradebook instead of waiting for a manual grade.
c.OverwriteCells.add_missing_cells = True

# nbgrader gives 0 points to a test cell that writes to stderr. Warnings from numpy in a passing
# test must not cost points, so stderr made only of warnings is dropped before grading.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = STDERR_WARNINGS_PATTERN

# Outputs are capped by bytes (LimitOutputBytes in grading/preprocessors/, on the workers), so
# nbgrader's line cap is off: past 1000 lines it also drops stderr, which can raise a grade.
c.LimitOutput.max_lines = -1
