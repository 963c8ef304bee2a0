"""Chapter 4, the general equation: every number the page states, and the code it shows."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.special
from numpy.testing import assert_allclose, assert_array_equal

from softmax_course.lessons.example import RAW_OUTPUTS
from softmax_course.lessons.maths import log_softmax, logsumexp, numerical_jacobian, softmax
from softmax_course.lessons.prose import numbers, power_of_ten
from tests.conftest import ROOT

PAGE = ROOT / "book" / "softmax-general-equation.md"
BATCH = np.array([RAW_OUTPUTS, [-1.10, 0.75, 1.60]])


def naive_softmax(raw: object, dtype: type = np.float64) -> np.ndarray:
    """The chapter's naive SoftMax, exactly as the page defines it."""
    e = np.exp(np.asarray(raw, dtype=dtype))
    return e / e.sum()


def stated(value: float, text: str) -> None:
    """Assert that `value` rounds to `text`, the way a glue format would print it."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert f"{value:.{decimals}f}" == text, (value, text)


# --- the equation and the running example -------------------------------------------------


def test_running_example_probabilities() -> None:
    p = softmax(RAW_OUTPUTS)
    for value, text in zip(p, ["0.684", "0.110", "0.206"], strict=True):
        stated(float(value), text)
    assert_allclose(p.sum(), 1.0, atol=1e-15)


def test_two_classes_is_the_sigmoid_of_the_difference() -> None:
    rng = np.random.default_rng(0)
    for a, b in rng.normal(scale=5, size=(100, 2)):
        assert_allclose(softmax([a, b])[0], scipy.special.expit(a - b), rtol=1e-12)


# --- numbers written for prose -----------------------------------------------------------


def test_power_of_ten_reads_as_the_page_shows_it() -> None:
    assert power_of_ten(float(np.finfo(np.float64).max)) == "1.8 × 10³⁰⁸"
    assert power_of_ten(float(np.finfo(np.float32).max)) == "3.4 × 10³⁸"
    assert power_of_ten(float(np.finfo(np.float64).eps)) == "2.2 × 10⁻¹⁶"
    assert power_of_ten(1e-6, 0) == "10⁻⁶"
    assert power_of_ten(-3e-5, 0) == "\u22123 × 10⁻⁵"


def test_numbers_reads_as_a_tuple_with_typographic_minus() -> None:
    assert numbers([1000.0, 999.0, 998.0]) == "(1000, 999, 998)"
    assert numbers([100.0, -100.0]) == "(100, \u2212100)"
    assert numbers((2, 3), "d") == "(2, 3)"


# --- batches -----------------------------------------------------------------------------


def test_batch_along_the_species_axis_matches_one_flower_at_a_time() -> None:
    right = softmax(BATCH, axis=-1)
    assert_allclose(right.sum(axis=-1), 1.0, atol=1e-15)
    for row, raw in zip(right, BATCH, strict=True):
        assert_allclose(row, softmax(raw), atol=1e-15)
    stated(float(right[0, 0]), "0.684")


def test_wrong_axis_gives_a_different_answer_of_the_same_shape() -> None:
    wrong = softmax(BATCH, axis=0)
    assert wrong.shape == BATCH.shape
    assert_allclose(wrong.sum(axis=0), 1.0, atol=1e-15)
    assert not np.allclose(wrong.sum(axis=1), 1.0)
    stated(float(wrong[0, 0]), "0.926")


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_softmax_along_each_axis_of_a_3d_batch(axis: int) -> None:
    raw = np.random.default_rng(1).normal(scale=3, size=(2, 3, 4))
    p = softmax(raw, axis=axis)
    assert_allclose(p, scipy.special.softmax(raw, axis=axis), rtol=1e-12)
    assert_allclose(p.sum(axis=axis), 1.0, atol=1e-14)
    assert_allclose(logsumexp(raw, axis=axis), scipy.special.logsumexp(raw, axis=axis), rtol=1e-12)
    assert_allclose(log_softmax(raw, axis=axis), scipy.special.log_softmax(raw, axis=axis),
                    rtol=1e-12, atol=1e-12)


def test_sum_without_keepdims_fails_on_2x3_and_is_silently_wrong_on_3x3() -> None:
    e = np.exp(BATCH)
    with pytest.raises(ValueError):
        e / e.sum(axis=1)
    square = np.exp(np.vstack([BATCH, [0.3, 0.1, -0.2]]))
    silently_wrong = square / square.sum(axis=1)
    assert not np.allclose(silently_wrong.sum(axis=1), 1.0)


# --- overflow and underflow --------------------------------------------------------------


def test_exact_zero_and_one_are_floating_point_not_mathematics() -> None:
    import mpmath

    mpmath.mp.dps = 400
    exact = [mpmath.e**0 / (mpmath.e**0 + mpmath.e**800), 1 / (1 + mpmath.e**-800)]
    assert 0 < exact[0] < 1 and 0 < exact[1] < 1  # strictly inside in exact arithmetic
    assert_array_equal(softmax([0.0, 800.0]), [0.0, 1.0])  # exactly 0 and 1 in float64
    half_epsilon = np.finfo(np.float64).eps / 2
    stated(float(np.log(1 / half_epsilon)), "36.7")
    stated(float(-np.log(np.finfo(np.float64).smallest_subnormal)), "744.4")
    assert softmax([0.0, 36.8])[1] == 1.0 and softmax([0.0, 36.6])[1] < 1.0
    assert softmax([0.0, 745.5])[0] == 0.0 and softmax([0.0, 743.5])[0] > 0.0


def test_stable_softmax_gives_the_float64_nearest_the_truth() -> None:
    import mpmath

    mpmath.mp.dps = 50
    for raw in ([1000.0, 0.0], [0.0, 36.0], [3.0, -2.0, 0.5]):
        e = [mpmath.e ** mpmath.mpf(x) for x in raw]
        nearest = [float(x / sum(e)) for x in e]
        assert_allclose(softmax(raw), nearest, rtol=2 * np.finfo(np.float64).eps)


def test_overflow_limits() -> None:
    limit64 = float(np.log(np.finfo(np.float64).max))
    limit32 = float(np.log(np.finfo(np.float32).max))
    stated(limit64, "709.78")
    stated(limit32, "88.72")
    with np.errstate(over="ignore"):
        assert np.isfinite(np.exp(709.78)) and np.isinf(np.exp(709.79))
        assert np.isfinite(np.exp(np.float32(88.72))) and np.isinf(np.exp(np.float32(88.73)))


def test_underflow_limits() -> None:
    limit64 = float(np.log(np.finfo(np.float64).smallest_subnormal))
    limit32 = float(np.log(np.finfo(np.float32).smallest_subnormal))
    stated(limit64, "-744.4")
    stated(limit32, "-103.3")
    assert np.exp(limit64) > 0 and np.exp(limit64 - 1) == 0
    assert np.exp(np.float32(limit32)) > 0 and np.exp(np.float32(limit32 - 1)) == 0


def test_naive_softmax_gives_nan_and_warns() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        big = naive_softmax([1000.0, 0.0])
        small = naive_softmax([-1000.0, -1000.0])
    assert np.isnan(big[0]) and big[1] == 0.0
    assert np.isnan(small).all()
    messages = [str(w.message) for w in caught]
    assert messages == [
        "overflow encountered in exp",
        "invalid value encountered in divide",
        "invalid value encountered in divide",
    ]


def test_overflow_can_be_made_to_raise() -> None:
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        naive_softmax([1000.0, 0.0])


def test_stable_softmax_is_exact_and_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_array_equal(softmax([1000.0, 0.0]), [1.0, 0.0])
        assert_array_equal(softmax([-1000.0, -1000.0]), [0.5, 0.5])
    gap = float(np.max(np.abs(naive_softmax(RAW_OUTPUTS) - softmax(RAW_OUTPUTS))))
    assert gap < 1e-15


def test_float32_against_float64() -> None:
    z = [100.0, -100.0]
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isfinite(naive_softmax(z, dtype=np.float64)).all()
        assert np.isnan(naive_softmax(z, dtype=np.float32)[0])
    z32 = np.asarray(z, dtype=np.float32)
    shifted = np.exp(z32 - z32.max())
    assert_array_equal(shifted / shifted.sum(), [1.0, 0.0])
    assert softmax(z32).dtype == np.float64

    iris32 = RAW_OUTPUTS.astype(np.float32)
    shifted32 = np.exp(iris32 - iris32.max())
    error = float(np.max(np.abs(shifted32 / shifted32.sum() - softmax(RAW_OUTPUTS))))
    assert 1e-9 < error < 1e-7  # the page prints it as a few times 1e-8


# --- log-sum-exp and log-softmax ---------------------------------------------------------


def test_logsumexp_is_a_smooth_maximum() -> None:
    lse = float(logsumexp(RAW_OUTPUTS))
    stated(lse, "1.810")
    stated(float(RAW_OUTPUTS.max()), "1.430")
    stated(float(RAW_OUTPUTS.max() + np.log(3)), "2.529")
    rng = np.random.default_rng(2)
    for k in (1, 2, 3, 10, 1000):
        z = rng.normal(scale=10, size=k)
        assert z.max() <= logsumexp(z) <= z.max() + np.log(k) + 1e-12
    assert_allclose(logsumexp(np.full(7, 2.5)), 2.5 + np.log(7), rtol=1e-15)
    stated(float(0.1 * logsumexp(RAW_OUTPUTS / 0.1)), "1.4300")


def test_gradient_of_logsumexp_is_softmax() -> None:
    gradient = numerical_jacobian(lambda z: np.array([logsumexp(z)]), RAW_OUTPUTS)[0]
    assert np.max(np.abs(gradient - softmax(RAW_OUTPUTS))) < 1e-9


def test_logsumexp_and_log_softmax_for_huge_inputs() -> None:
    with np.errstate(over="ignore"):
        assert np.isinf(np.log(np.sum(np.exp([1000.0, 0.0]))))
    assert logsumexp([1000.0, 0.0]) == 1000.0
    z = np.array([0.0, 1000.0])
    with np.errstate(divide="ignore"):
        assert_array_equal(np.log(softmax(z)), [-np.inf, 0.0])
    assert_array_equal(log_softmax(z), [-1000.0, 0.0])


def test_log_of_softmax_loses_digits_near_the_underflow_limit() -> None:
    edge = np.array([0.0, 740.0])
    stated(float(log_softmax(edge)[0]), "-740.0000")
    stated(float(np.log(softmax(edge))[0]), "-739.9974")
    tiny = np.finfo(np.float64).smallest_subnormal
    assert int(np.floor(np.log2(np.exp(-740.0) / tiny))) + 1 == 7  # significant bits left


def test_logsumexp_of_a_huge_input_is_the_nearest_float() -> None:
    assert -1000.0 < np.log(np.spacing(1000.0) / 2)
    assert logsumexp([1000.0, 0.0]) == 1000.0


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_against_scipy_on_random_inputs(scale: float) -> None:
    batch = scale * np.random.default_rng(4).normal(size=(1000, 5))
    lse_error = np.abs(logsumexp(batch) - scipy.special.logsumexp(batch, axis=-1)) / scale
    log_p_error = np.abs(log_softmax(batch) - scipy.special.log_softmax(batch, axis=-1)) / scale
    assert lse_error.max() < 1e-15
    assert log_p_error.max() < 1e-15
    assert max(lse_error.max(), log_p_error.max()) <= 4 * np.finfo(np.float64).eps
    assert_allclose(softmax(batch), scipy.special.softmax(batch, axis=-1), rtol=1e-10, atol=1e-300)


# --- masked raw outputs ------------------------------------------------------------------


def test_masked_class_gets_zero_and_the_others_renormalise() -> None:
    masked = np.array([1.43, -np.inf, 0.23])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(masked)
        log_p = log_softmax(masked)
        lse = logsumexp(masked)
    assert p[1] == 0.0
    assert_allclose(p[[0, 2]], softmax([1.43, 0.23]), rtol=1e-15)
    stated(float(p[0]), "0.769")
    stated(float(p[2]), "0.231")
    assert log_p[1] == -np.inf and np.isfinite(log_p[[0, 2]]).all()
    assert_allclose(log_p, scipy.special.log_softmax(masked))
    assert_allclose(lse, scipy.special.logsumexp(masked), rtol=1e-15)


def test_everything_masked() -> None:
    everything = np.full(3, -np.inf)
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan(softmax(everything)).all()
        assert logsumexp(everything) == -np.inf
    assert scipy.special.logsumexp(everything) == -np.inf


# --- the picture -------------------------------------------------------------------------


def test_moving_along_ones_changes_nothing_and_log_recovers_the_rest() -> None:
    p = softmax(RAW_OUTPUTS)
    for c in (-100.0, 0.0, 3.7, 500.0):
        assert_allclose(softmax(RAW_OUTPUTS + c), p, rtol=1e-12)
    recovered = np.log(p) - np.log(p).mean()
    assert np.max(np.abs(recovered - (RAW_OUTPUTS - RAW_OUTPUTS.mean()))) < 1e-15


def test_moving_one_raw_output_keeps_the_other_ratio() -> None:
    p = softmax(RAW_OUTPUTS)
    stated(float(p[0] / p[2]), "3.32")
    for shift in (-12.0, -1.0, 2.0, 12.0):
        moved = softmax(RAW_OUTPUTS + np.array([0.0, shift, 0.0]))
        assert_allclose(moved[0] / moved[2], p[0] / p[2], rtol=1e-12)


def test_plain_gradient_steps_sum_to_zero_and_adams_first_step_does_not() -> None:
    p = softmax(RAW_OUTPUTS)
    gradient = p - np.array([1.0, 0.0, 0.0])
    assert abs(gradient.sum()) < 1e-15
    # Adam's first step, with bias correction: m_hat = g and v_hat = g**2.
    beta1, beta2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    m_hat = (1 - beta1) * gradient / (1 - beta1)
    v_hat = (1 - beta2) * gradient**2 / (1 - beta2)
    adam_step = -lr * m_hat / (np.sqrt(v_hat) + eps)
    assert_allclose(adam_step, -lr * gradient / (np.abs(gradient) + eps), rtol=1e-12)
    stated(float(adam_step.sum()), "-0.1000")


def test_temperature_path_runs_from_centre_to_setosa_corner() -> None:
    assert_allclose(softmax(RAW_OUTPUTS / 1e6), 1 / 3, atol=1e-6)
    assert (softmax(RAW_OUTPUTS / 0.01)[1:] < 1e-50).all()


def test_exercise_answer() -> None:
    answer = softmax([1000.0, 999.0, 998.0])
    assert_allclose(answer, softmax([0.0, -1.0, -2.0]), rtol=1e-15)
    for value, text in zip(answer, ["0.665", "0.245", "0.090"], strict=True):
        stated(float(value), text)


# --- the page itself ---------------------------------------------------------------------


def page_text() -> str:
    """Return the chapter's MyST source."""
    return Path(PAGE).read_text()


def test_every_glue_used_in_prose_is_defined_with_the_chapter_prefix() -> None:
    text = page_text()
    used = set(re.findall(r"\{glue:text\}`([a-z0-9_]+)[:`]", text))
    defined = set(re.findall(r'glue\(f?"([a-z0-9_{}]+)"', text))
    expanded = set()
    for name in defined:
        if "{name}" in name:
            expanded |= {name.replace("{name}", s) for s in ("setosa", "versicolor", "virginica")}
        elif "{i}" in name:
            expanded |= {name.replace("{i}", str(i)) for i in range(3)}
        else:
            expanded.add(name)
    assert used <= expanded, used - expanded
    assert all(name.startswith("ch4_") for name in expanded)


def test_corrected_statements_stay_corrected() -> None:
    text = " ".join(page_text().split())
    assert "(general-stable-softmax)=\n## The fix: subtract the maximum" in page_text()
    for gone in ("never gives a 0 or a 1", "some optimisers do", "every digit", "last digit"):
        assert gone not in text, gone
    for link in ("{ref}`properties-sigmoid`", "{ref}`properties-shift`", "{ref}`general-masked`"):
        assert link in text, link
    assert "strictly* between $0$ and $1$" in text  # the mathematical statement, kept apart


def test_one_deliberate_error_and_the_package_code_is_shown() -> None:
    text = page_text()
    assert text.count(":tags: [raises-exception]") == 1
    for name in ("softmax", "logsumexp", "log_softmax"):
        assert f":pyobject: {name}\n" in text
    assert "(softmax-general-equation)=" in text
    for label in ("fig-softmax-simplex", "fig-softmax-contours", "eq-softmax-general"):
        assert label in text
