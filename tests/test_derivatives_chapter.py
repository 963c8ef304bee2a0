"""The numbers and identities the "Derivatives of SoftMax" chapter states, checked directly."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import sympy as sp
from numpy.testing import assert_allclose

from softmax_course.lessons.example import RAW_OUTPUTS, SPECIES
from softmax_course.lessons.maths import (
    argmax_onehot,
    numerical_jacobian,
    softmax,
    softmax_jacobian,
    softmax_vjp,
)
from softmax_course.lessons.symbolic import (
    closed_form_jacobian,
    jacobians_agree,
    logit_symbols,
    quotient_rule,
    quotient_rule_jacobian,
    softmax_expressions,
    symbolically_equal,
    sympy_jacobian,
    to_latex,
)
from tests.conftest import ROOT

CHAPTER = ROOT / "book" / "softmax-derivatives.md"

OUTLINE_JACOBIAN = np.array(
    [
        [0.2161, -0.0751, -0.1410],
        [-0.0751, 0.0977, -0.0226],
        [-0.1410, -0.0226, 0.1636],
    ]
)


# The Jacobian of the running example


def test_example_probabilities_as_the_chapter_prints_them() -> None:
    assert_allclose(softmax(RAW_OUTPUTS), [0.684, 0.110, 0.206], atol=5e-4)


def test_example_jacobian_matches_the_outline_to_four_decimals() -> None:
    assert_allclose(softmax_jacobian(RAW_OUTPUTS), OUTLINE_JACOBIAN, atol=5e-5)


def test_setosa_row_as_the_prose_states_it() -> None:
    assert_allclose(softmax_jacobian(RAW_OUTPUTS)[0], [0.216, -0.075, -0.141], atol=5e-4)


def test_setosa_entries_are_the_hand_derived_products() -> None:
    p = softmax(RAW_OUTPUTS)
    J = softmax_jacobian(RAW_OUTPUTS)
    assert J[0, 0] == pytest.approx(p[0] * (1 - p[0]))
    assert J[0, 1] == pytest.approx(-p[0] * p[1])
    assert J[0, 2] == pytest.approx(-p[0] * p[2])


def test_rows_and_columns_sum_to_zero_and_the_matrix_is_exactly_symmetric() -> None:
    J = softmax_jacobian(RAW_OUTPUTS)
    assert np.abs(J.sum(axis=1)).max() < 1e-15
    assert np.abs(J.sum(axis=0)).max() < 1e-15
    assert np.count_nonzero(J != J.T) == 0


def test_only_the_diagonal_is_positive() -> None:
    J = softmax_jacobian(RAW_OUTPUTS)
    assert np.all(np.diag(J) > 0)
    assert np.all(J[~np.eye(3, dtype=bool)] < 0)


def test_example_jacobian_matches_finite_differences() -> None:
    difference = np.abs(softmax_jacobian(RAW_OUTPUTS) - numerical_jacobian(softmax, RAW_OUTPUTS))
    assert difference.max() < 1e-9
    # The page: below the rounding error eps / h of central differences with the default h.
    h = inspect.signature(numerical_jacobian).parameters["h"].default
    assert h == 1e-6
    assert difference.max() < np.finfo(np.float64).eps / h


@pytest.mark.parametrize("seed", range(5))
def test_random_jacobians_match_finite_differences(seed: int) -> None:
    z = np.random.default_rng(seed).normal(scale=2.0, size=6)
    assert_allclose(softmax_jacobian(z), numerical_jacobian(softmax, z), atol=1e-8)


# The Jacobian is singular: it ignores exactly the direction (1, ..., 1)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
@pytest.mark.parametrize("seed", range(3))
def test_jacobian_has_rank_n_minus_1_and_null_space_ones(n: int, seed: int) -> None:
    z = np.random.default_rng(seed).normal(scale=2.0, size=n)
    J = softmax_jacobian(z)
    assert np.linalg.matrix_rank(J) == n - 1
    assert np.abs(J @ np.ones(n)).max() < 4 * np.finfo(np.float64).eps
    # The singular vector of the one zero singular value is (1, ..., 1) / sqrt(n).
    _, values, vt = np.linalg.svd(J)
    assert values[-1] < 1e-15 and values[-2] > 1e-6
    assert_allclose(np.abs(vt[-1]), np.full(n, 1 / np.sqrt(n)), atol=1e-8)


def test_equal_incoming_gradient_passes_back_as_zero_and_others_do_not() -> None:
    ones = np.ones(3)
    assert np.abs(softmax_vjp(RAW_OUTPUTS, ones)).max() < 4 * np.finfo(np.float64).eps
    assert np.abs(softmax_vjp(RAW_OUTPUTS, 7.5 * ones)).max() < 40 * np.finfo(np.float64).eps
    assert not np.allclose(softmax_jacobian(RAW_OUTPUTS), 0.0)
    for g in np.random.default_rng(0).normal(size=(20, 3)):
        assert np.abs(softmax_vjp(RAW_OUTPUTS, g)).max() > 1e-6


def test_slope_rounds_to_exactly_zero_from_37_on() -> None:
    far = np.tile(RAW_OUTPUTS, (200, 1))
    far[:, 0] = np.arange(200)
    zero = far[softmax_jacobian(far)[:, 0, 0] == 0.0, 0]
    assert zero[0] == 37.0 and np.array_equal(zero, np.arange(37.0, 200.0))
    assert np.all(softmax(far[37:])[:, 0] == 1.0)


# SymPy: the quotient rule and the closed form


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_quotient_rule_and_sympy_jacobians_equal_diag_p_minus_p_pt(n: int) -> None:
    assert jacobians_agree(n)


def test_closed_form_is_diag_p_minus_outer_product() -> None:
    p = softmax_expressions(logit_symbols(4))
    assert symbolically_equal(closed_form_jacobian(4), sp.diag(*p) - p * p.T)


def test_symbolic_check_rejects_a_wrong_jacobian() -> None:
    wrong = closed_form_jacobian(3)
    wrong[0, 1] = -wrong[0, 1]
    assert not symbolically_equal(quotient_rule_jacobian(3), wrong)


def test_quotient_rule_pieces_for_setosa() -> None:
    z = logit_symbols(3, labels=SPECIES)
    p = softmax_expressions(z)
    own = quotient_rule(z, 0, 0)
    assert own.df == sp.exp(z[0]) and own.dg == sp.exp(z[0])
    assert sp.simplify(own.derivative - p[0] * (1 - p[0])) == 0
    for j in (1, 2):
        other = quotient_rule(z, 0, j)
        assert other.df == 0 and other.dg == sp.exp(z[j])
        assert sp.simplify(other.derivative + p[0] * p[j]) == 0


def test_symbolic_jacobian_evaluates_to_the_numeric_one() -> None:
    z = logit_symbols(3)
    values = dict(zip(z, RAW_OUTPUTS.tolist(), strict=True))
    evaluated = np.array(sympy_jacobian(3).subs(values).evalf(), dtype=float)
    assert_allclose(evaluated, softmax_jacobian(RAW_OUTPUTS), atol=1e-12)


def test_logit_symbols_need_one_label_per_output() -> None:
    assert [s.name for s in logit_symbols(2)] == ["z_1", "z_2"]
    with pytest.raises(ValueError):
        logit_symbols(3, labels=["a", "b"])


def test_to_latex_sets_species_subscripts_upright() -> None:
    (z_setosa,) = logit_symbols(1, labels=["setosa"])
    assert to_latex(sp.exp(z_setosa)) == r"e^{z_{\text{setosa}}}"
    assert to_latex(logit_symbols(1)[0]) == "z_{1}"


# Backpropagation: the vector-Jacobian product


@pytest.mark.parametrize("shape", [(3,), (10,), (64, 10), (2, 5, 4)])
@pytest.mark.parametrize("seed", range(3))
def test_vjp_equals_g_times_jacobian(shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3.0, size=shape)
    g = rng.normal(size=shape)
    via_matrix = np.einsum("...i,...ij->...j", g, softmax_jacobian(z))
    assert_allclose(softmax_vjp(z, g), via_matrix, atol=1e-14)


def test_vjp_on_the_example_as_the_chapter_runs_it() -> None:
    rng = np.random.default_rng(5)
    g = rng.normal(size=3)
    assert_allclose(softmax_vjp(RAW_OUTPUTS, g), g @ softmax_jacobian(RAW_OUTPUTS), atol=1e-15)


def test_cross_entropy_gradient_is_p_minus_y() -> None:
    p = softmax(RAW_OUTPUTS)
    y = np.array([1.0, 0.0, 0.0])
    through_vjp = softmax_vjp(RAW_OUTPUTS, -y / p)
    assert_allclose(through_vjp, p - y, atol=1e-15)
    assert through_vjp[0] == pytest.approx(-0.316, abs=5e-4)


def test_memory_of_a_20000_word_jacobian() -> None:
    n, size = 20_000, np.dtype(np.float64).itemsize
    assert f"{n**2 * size / 1e9:.1f}" == "3.2"
    assert f"{n * size / 1e3:.0f}" == "160"


# Never all zero, unlike ArgMax


def test_bump_peaks_at_a_quarter_where_setosa_is_one_half() -> None:
    peak_z = np.log(np.exp(RAW_OUTPUTS[1]) + np.exp(RAW_OUTPUTS[2]))
    assert peak_z == pytest.approx(0.657, abs=5e-4)
    raw = np.array([peak_z, *RAW_OUTPUTS[1:]])
    assert softmax(raw)[0] == pytest.approx(0.5)
    assert softmax_jacobian(raw)[0, 0] == pytest.approx(0.25)
    sweep = np.tile(RAW_OUTPUTS, (801, 1))
    sweep[:, 0] = np.linspace(-4, 6, 801)
    slopes = softmax_jacobian(sweep)[:, 0, 0]
    assert np.all(slopes > 0) and slopes.max() <= 0.25


def test_argmax_output_is_flat_and_jumps_at_the_tie_with_virginica() -> None:
    sweep = np.tile(RAW_OUTPUTS, (801, 1))
    sweep[:, 0] = np.linspace(-4, 6, 801)
    setosa = argmax_onehot(sweep)[:, 0]
    assert np.all(setosa[sweep[:, 0] < RAW_OUTPUTS[2]] == 0)
    assert np.all(setosa[sweep[:, 0] > RAW_OUTPUTS[2]] == 1)


# The chapter itself


def test_every_glue_name_is_prefixed_and_defined() -> None:
    text = CHAPTER.read_text()
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))
    defined = set(re.findall(r'glue\("([A-Za-z0-9_]+)"', text))
    templated = re.findall(r'glue\(f"([A-Za-z0-9_]+)\{', text)
    assert all(name.startswith("ch5_") for name in used | defined)
    undefined = {n for n in used - defined if not any(n.startswith(t) for t in templated)}
    assert not undefined
    assert "(softmax-derivatives)=" in text
    assert "name: fig-softmax-derivative-vs-argmax" in text


def test_corrected_statements_stay_corrected() -> None:
    text = " ".join(CHAPTER.read_text().split())
    for gone in (
        "always receives some signal",
        "for any size",
        "That is a proof",
        "SymPy proves",
        "next lesson in the series",
        "some optimisers do",
        "last digit",
    ):
        assert gone not in text, gone
    assert "## A proof for any number of classes" in CHAPTER.read_text()
    assert "f' = \\delta_{ij}\\, e^{z_i}" in text  # the index argument, for every n
    assert "SymPy checks the sizes" in text
    assert "never the zero matrix" in text and "rank $n - 1$" in text
