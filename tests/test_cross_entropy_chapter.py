"""Chapter 6 (Cross-entropy): the losses, the SymPy gradient, the ArgMax update redone, the page."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from bs4 import BeautifulSoup
from numpy.testing import assert_allclose

from softmax_course.lessons.example import RAW_OUTPUTS, SPECIES, load_iris
from softmax_course.lessons.losses import (
    cross_entropy,
    cross_entropy_grad,
    one_hot,
    squared_residuals,
    squared_residuals_grad,
)
from softmax_course.lessons.maths import argmax_onehot, numerical_jacobian, softmax
from softmax_course.lessons.symbolic import logit_symbols, softmax_expressions, symbolically_equal
from softmax_course.lessons.symbolic_loss import (
    chain_rule_gradient,
    gradient_is_p_minus_y,
    target_symbols,
)
from tests.conftest import ROOT

CHAPTER = ROOT / "book" / "cross-entropy.md"
VIRGINICA = SPECIES.index("virginica")

# The ArgMax chapter's worked update: z_setosa = w x + b, the flower is a virginica.
X, W, B, LEARNING_RATE, STEPS = 0.5, 2.0, 0.43, 0.1, 300
W_FLIP = (RAW_OUTPUTS[VIRGINICA] - B) / X


def raw_outputs(weight: float) -> np.ndarray:
    return np.array([weight * X + B, RAW_OUTPUTS[1], RAW_OUTPUTS[2]])


def descend(loss_grad: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """The weights of STEPS gradient steps on w, dL/dw = dL/dz_setosa * x, as the chapter runs."""
    weights = [W]
    for _ in range(STEPS):
        slope = loss_grad(raw_outputs(weights[-1]), VIRGINICA)[0] * X
        weights.append(weights[-1] - LEARNING_RATE * slope)
    return np.array(weights)


# The loss and its gradient


def test_loss_on_the_flower_for_each_true_species() -> None:
    losses = [cross_entropy(RAW_OUTPUTS, k) for k in range(3)]
    assert_allclose(losses, -np.log(softmax(RAW_OUTPUTS)), rtol=1e-14)
    assert [f"{value:.3f}" for value in losses] == ["0.380", "2.210", "1.580"]


def test_batch_loss_is_the_mean_and_its_gradient_is_divided_by_the_batch() -> None:
    rng = np.random.default_rng(3)
    raw = rng.normal(scale=3.0, size=(7, 4))
    target = rng.integers(0, 4, size=7)
    singles = [cross_entropy(row, k) for row, k in zip(raw, target, strict=True)]
    assert cross_entropy(raw, target) == pytest.approx(np.mean(singles))
    assert_allclose(cross_entropy_grad(raw, target), (softmax(raw) - one_hot(target, 4)) / 7)
    flat = raw.ravel()
    measured = numerical_jacobian(
        lambda r: np.array([cross_entropy(r.reshape(raw.shape), target)]), flat
    )[0]
    assert_allclose(cross_entropy_grad(raw, target).ravel(), measured, atol=1e-8)


def test_gradient_on_the_flower_is_p_minus_y_and_matches_finite_differences() -> None:
    gradient = cross_entropy_grad(RAW_OUTPUTS, VIRGINICA)
    assert_allclose(gradient, softmax(RAW_OUTPUTS) - [0, 0, 1], rtol=1e-15)
    measured = numerical_jacobian(lambda r: np.array([cross_entropy(r, VIRGINICA)]), RAW_OUTPUTS)
    assert np.abs(gradient - measured[0]).max() < 1e-8
    assert [f"{value:.3f}" for value in gradient] == ["0.684", "0.110", "-0.794"]


@pytest.mark.parametrize("seed", range(3))
def test_squared_residuals_gradient_matches_finite_differences(seed: int) -> None:
    rng = np.random.default_rng(seed)
    raw, target = rng.normal(scale=2.0, size=(5, 3)), rng.integers(0, 3, size=5)
    measured = numerical_jacobian(
        lambda r: np.array([squared_residuals(r.reshape(5, 3), target)]), raw.ravel()
    )[0]
    assert_allclose(squared_residuals_grad(raw, target).ravel(), measured, atol=1e-8)


def test_an_untrained_classifier_scores_about_log_k() -> None:
    measurements, species = load_iris()
    x = (measurements - measurements.mean(axis=0)) / measurements.std(axis=0)
    rng = np.random.default_rng(0)
    loss_iris = cross_entropy(x @ rng.normal(scale=0.01, size=(4, 3)), species)
    x_many, labels = rng.normal(size=(1000, 20)), rng.integers(0, 10, size=1000)
    loss_ten = cross_entropy(x_many @ rng.normal(scale=0.01, size=(20, 10)), labels)
    assert abs(loss_iris - np.log(3)) < 0.01
    assert abs(loss_ten - np.log(10)) < 0.01


# SymPy: the chain rule through the quotient-rule Jacobian


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_sympy_chain_rule_simplifies_to_p_minus_y(n: int) -> None:
    assert gradient_is_p_minus_y(n)


def test_the_check_fails_without_targets_that_sum_to_one() -> None:
    z, y = logit_symbols(3), target_symbols(3)
    p_minus_y = softmax_expressions(z) - sp.Matrix(y)
    assert not symbolically_equal(chain_rule_gradient(z, y), p_minus_y)
    expected = softmax_expressions(z) * sp.Add(*y) - sp.Matrix(y)
    assert symbolically_equal(chain_rule_gradient(z, y), expected)


def test_written_out_case_for_a_virginica_is_p_setosa() -> None:
    z, y = logit_symbols(3, labels=SPECIES), target_symbols(3, labels=SPECIES)
    chain = chain_rule_gradient(z, y).subs(dict(zip(y, (0, 0, 1), strict=True)))
    assert sp.simplify(chain[0] - softmax_expressions(z)[0]) == 0
    assert sp.simplify(chain[2] - (softmax_expressions(z)[2] - 1)) == 0


def test_symbolic_gradient_evaluates_to_the_numeric_one() -> None:
    z, y = logit_symbols(3), target_symbols(3)
    values = dict(zip(z, RAW_OUTPUTS.tolist(), strict=True)) | dict(zip(y, (0, 0, 1), strict=True))
    evaluated = np.array(chain_rule_gradient(z, y).subs(values).evalf(), dtype=float).ravel()
    assert_allclose(evaluated, cross_entropy_grad(RAW_OUTPUTS, VIRGINICA), atol=1e-12)


# Squared residuals after SoftMax


def test_squared_residuals_slope_vanishes_when_confidently_wrong() -> None:
    wrong = np.array([RAW_OUTPUTS[0], RAW_OUTPUTS[1], -6.0])
    assert softmax(wrong)[VIRGINICA] < 1e-3
    ce, sr = cross_entropy_grad(wrong, VIRGINICA)[2], squared_residuals_grad(wrong, VIRGINICA)[2]
    assert ce < -0.99 and -0.01 < sr < 0
    assert f"{ce / sr:.0f}" == "556"
    assert squared_residuals(wrong, VIRGINICA) < 2


# The ArgMax chapter's update, redone


def test_argmax_gave_no_gradient_at_the_same_start() -> None:
    error = 2 * (argmax_onehot(raw_outputs(W)) - [0, 0, 1])
    assert np.all(error @ numerical_jacobian(argmax_onehot, raw_outputs(W)) == 0)


@pytest.mark.parametrize(
    ("loss_grad", "first_right", "first_gradient"),
    [(cross_entropy_grad, 91, "0.342"), (squared_residuals_grad, 108, "0.252")],
)
def test_softmax_update_moves_the_weight_until_virginica_wins(
    loss_grad: Callable[[np.ndarray, int], np.ndarray], first_right: int, first_gradient: str
) -> None:
    assert_allclose(raw_outputs(W), RAW_OUTPUTS)
    assert f"{loss_grad(raw_outputs(W), VIRGINICA)[0] * X:.3f}" == first_gradient
    weights = descend(loss_grad)
    assert np.all(np.diff(weights) < 0)
    assert int(np.argmax(weights < W_FLIP)) == first_right
    assert weights[-1] < W_FLIP
    assert int(np.argmax(raw_outputs(weights[-1]))) == VIRGINICA


# The fused, stable form


def test_fused_form_is_exact_for_raw_outputs_of_plus_minus_1000() -> None:
    extreme = np.array([1000.0, -1000.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cross_entropy(extreme, 1) == 2000.0
        assert cross_entropy(extreme, 0) == 0.0
        assert np.copysign(1.0, cross_entropy(extreme, 0)) == 1.0  # the page shows 0.0, not -0.0
        assert cross_entropy(extreme, 2) == 1000.0
        assert np.array_equal(cross_entropy_grad(extreme, 1), [1.0, -1.0, 0.0])
    with np.errstate(all="ignore"):
        assert np.isinf(-np.log(softmax(extreme)[1]))


# The chapter itself


def test_every_glue_name_is_prefixed_and_defined() -> None:
    text = CHAPTER.read_text()
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))
    defined = set(re.findall(r'glue\("([A-Za-z0-9_]+)"', text))
    templated = re.findall(r'glue\(f"([A-Za-z0-9_]+)\{', text)
    assert all(name.startswith("ch6_") for name in used | defined)
    assert not {n for n in used - defined if not any(n.startswith(t) for t in templated)}
    assert "(cross-entropy)=" in text


def test_built_page_shows_the_glued_numbers_and_links_the_notebook(built_book: Path) -> None:
    html = (built_book / "book" / "cross-entropy.html").read_text()
    article = BeautifulSoup(html, "html.parser").find("article")
    for cell in article.select("div.cell"):
        cell.decompose()
    prose = " ".join(tag.get_text(" ") for tag in article.find_all(["p", "li"]))
    for shown in ("0.380", "2.210", "1.580", "1.099", "-0.794", "0.342", "0.252", "2000.0"):
        assert shown in prose, shown
    for steps in ("91", "108", "300"):
        assert re.search(rf"\b{steps}\b", prose), steps
    assert 'href="../exercises/cross-entropy/cross-entropy.html"' in html


def test_built_page_has_three_figures_with_alt_text(built_book: Path) -> None:
    soup = BeautifulSoup((built_book / "book" / "cross-entropy.html").read_text(), "html.parser")
    article = soup.find("article")
    for short in ("curve", "vs-squared", "update"):
        name = f"fig-cross-entropy-{short}"
        figure = article.find(id=name)
        assert figure is not None and figure.find("figcaption") is not None, name
        assert len(figure.find("img").get("alt", "")) > 80, name
