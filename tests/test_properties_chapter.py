"""Checks for the chapter "Properties of SoftMax": its stated properties and glued numbers."""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit

from softmax_course.lessons.example import RAW_OUTPUTS, SPECIES, load_iris
from softmax_course.lessons.maths import argmax_onehot, softmax
from softmax_course.lessons.network import (
    RUNNING_NETWORK,
    TinyNetwork,
    scaled_iris,
    train_tiny_network,
)
from tests.conftest import ROOT

CHAPTER = ROOT / "book" / "softmax-properties.md"
SEEDS = range(20)
"""The seeds the chapter trains."""

SHIFTS = [0.0, -1.43, 10.0, -100.0, 500.0]


@pytest.fixture(scope="module")
def random_raw() -> np.ndarray:
    return np.random.default_rng(0).normal(scale=5.0, size=(2000, 3))


# --- The example's numbers -------------------------------------------------------------------


def test_example_probabilities_as_printed() -> None:
    assert_allclose(softmax(RAW_OUTPUTS), [0.684, 0.110, 0.206], atol=5e-4)


def test_setosa_virginica_ratio_is_e_to_the_gap() -> None:
    p = softmax(RAW_OUTPUTS)
    gap = RAW_OUTPUTS[0] - RAW_OUTPUTS[2]
    assert_allclose(gap, 1.20, atol=5e-3)
    assert_allclose(p[0] / p[2], np.exp(gap), rtol=1e-12)
    assert_allclose(p[0] / p[2], 3.32, atol=5e-3)


def test_setosa_versicolor_gap() -> None:
    assert_allclose(RAW_OUTPUTS[0] - RAW_OUTPUTS[1], 1.83, atol=5e-3)


# --- Order, bounds, sum --------------------------------------------------------------------------


def test_order_is_kept_on_the_example() -> None:
    p = softmax(RAW_OUTPUTS)
    assert list(np.argsort(-p)) == list(np.argsort(-RAW_OUTPUTS)) == [0, 2, 1]
    assert_allclose(argmax_onehot(p), argmax_onehot(RAW_OUTPUTS))


def test_a_near_tie_becomes_an_exact_tie_in_float64() -> None:
    close = np.array([0.0, 1e-17])
    p = softmax(close)
    assert p[0] == p[1] == 0.5
    assert int(np.argmax(close)) == 1 and int(np.argmax(p)) == 0  # the decision changes


def test_order_is_kept_on_random_vectors(random_raw: np.ndarray) -> None:
    p = softmax(random_raw)
    assert np.array_equal(np.argsort(p, axis=1), np.argsort(random_raw, axis=1))


def test_equal_raw_outputs_give_equal_probabilities() -> None:
    assert_allclose(softmax([2.0, 2.0, 2.0]), [1 / 3] * 3, rtol=1e-15)
    assert_allclose(softmax([-7.0, -7.0, -7.0]), [1 / 3] * 3, rtol=1e-15)


def test_outputs_strictly_between_0_and_1_and_sum_to_1(random_raw: np.ndarray) -> None:
    p = softmax(random_raw)
    assert np.all((p > 0) & (p < 1))
    assert np.max(np.abs(p.sum(axis=1) - 1)) < 1e-15


def test_chapter_sum_error_is_a_few_ulps() -> None:
    raw = np.random.default_rng(2024).normal(scale=5.0, size=(10_000, 3))
    error = np.max(np.abs(softmax(raw).sum(axis=1) - 1))
    assert 0 < error < 5e-16


def test_floating_point_rounds_to_exactly_one_and_zero() -> None:
    small, large = softmax([0.0, 40.0])
    assert large == 1.0 and small > 0.0
    assert softmax([0.0, 800.0])[0] == 0.0
    # The thresholds the chapter states, in whole numbers.
    assert softmax([0.0, 36.0])[1] < 1.0 and softmax([0.0, 37.0])[1] == 1.0
    assert softmax([0.0, 745.0])[0] > 0.0 and softmax([0.0, 746.0])[0] == 0.0


# --- Shift invariance ------------------------------------------------------------------------


@pytest.mark.parametrize("c", SHIFTS)
def test_shift_invariance_on_the_example(c: float) -> None:
    assert_allclose(softmax(RAW_OUTPUTS + c), softmax(RAW_OUTPUTS), atol=1e-14)


def test_shift_invariance_on_random_vectors(random_raw: np.ndarray) -> None:
    shifts = np.random.default_rng(1).uniform(-300, 300, size=(len(random_raw), 1))
    assert_allclose(softmax(random_raw + shifts), softmax(random_raw), atol=1e-12)


def test_largest_change_under_the_chapters_shifts_is_rounding() -> None:
    p = softmax(RAW_OUTPUTS)
    largest = max(np.max(np.abs(softmax(RAW_OUTPUTS + c) - p)) for c in SHIFTS)
    assert largest < 1e-14


# --- Temperature -----------------------------------------------------------------------------


def test_cold_temperature_gives_argmax() -> None:
    coldest = softmax(RAW_OUTPUTS / 0.01)
    assert_allclose(coldest, argmax_onehot(RAW_OUTPUTS), atol=1e-15)
    assert coldest[0] == 1.0
    # Only the printout is one-hot: the losers are tiny but not zero.
    assert np.all(coldest[1:] > 0)
    assert [f"{v:.1e}" for v in coldest[1:]] == ["3.3e-80", "7.7e-53"]


def test_hot_temperature_gives_uniform() -> None:
    hot = softmax(RAW_OUTPUTS / 1000.0)
    assert_allclose(hot, [1 / 3] * 3, atol=1e-3)
    assert_allclose(np.max(np.abs(hot - 1 / 3)), 0.0003, atol=5e-5)


def test_temperature_values_in_the_prose() -> None:
    assert_allclose(softmax(RAW_OUTPUTS / 0.3)[0], 0.980, atol=5e-4)
    assert_allclose(softmax(RAW_OUTPUTS / 3.0), [0.452, 0.245, 0.303], atol=5e-4)


def test_temperature_keeps_order_and_moves_monotonically() -> None:
    temperatures = np.logspace(-2, 3, 200)
    curves = softmax(RAW_OUTPUTS[None, :] / temperatures[:, None])
    assert np.all(np.argsort(-curves, axis=1)[:, 0] == 0)
    assert np.all(np.diff(curves[:, 0]) <= 1e-15)  # setosa only falls as T grows
    assert np.all(np.diff(curves[:, 1]) >= -1e-15)  # versicolor only rises


def test_tied_winners_split_in_the_cold_limit() -> None:
    assert_allclose(softmax(np.array([2.0, 2.0, -5.0]) / 0.01), [0.5, 0.5, 0.0], atol=1e-15)


# --- Scaling the last layer ----------------------------------------------------------------


def decisions(net: TinyNetwork) -> np.ndarray:
    x, _ = scaled_iris()
    return net.raw_outputs(x).argmax(axis=1)


def test_scaling_weights_and_biases_keeps_every_decision() -> None:
    net = RUNNING_NETWORK
    for factor in (0.5, 2.0, 3.0, 10.0):
        scaled = TinyNetwork(net.w1, net.b1, factor * net.w2, factor * net.b2)
        assert np.array_equal(decisions(scaled), decisions(net)), factor


def test_scaling_only_the_weights_changes_decisions() -> None:
    net = RUNNING_NETWORK
    _, species = scaled_iris()
    doubled = TinyNetwork(net.w1, net.b1, 2 * net.w2, net.b2)
    changed = decisions(doubled) != decisions(net)
    assert np.sum(changed) == 14
    assert np.sum(decisions(net) == species) == 144
    assert np.sum(decisions(doubled) == species) == 134
    # The exercise's rule: doubled weights order the classes as z - b2 / 2.
    x, _ = scaled_iris()
    assert np.array_equal(decisions(doubled), (net.raw_outputs(x) - net.b2 / 2).argmax(axis=1))


def test_doubling_weights_with_equal_biases_changes_nothing() -> None:
    net = RUNNING_NETWORK
    equal = TinyNetwork(net.w1, net.b1, net.w2, np.full(3, 0.7))
    doubled = TinyNetwork(net.w1, net.b1, 2 * net.w2, equal.b2)
    assert np.array_equal(decisions(doubled), decisions(equal))


# --- Two classes: the sigmoid ----------------------------------------------------------------


def test_two_class_softmax_is_sigmoid_of_difference() -> None:
    a, b = RAW_OUTPUTS[0], RAW_OUTPUTS[1]
    assert_allclose(softmax([a, b])[0], expit(a - b), rtol=1e-14)
    assert_allclose(expit(a - b), 0.8618, atol=5e-5)
    pairs = np.random.default_rng(7).normal(scale=10.0, size=(10_000, 2))
    gap = np.max(np.abs(softmax(pairs)[:, 0] - expit(pairs[:, 0] - pairs[:, 1])))
    assert gap < 1e-15


# --- Two seeds, one flower -------------------------------------------------------------------


@cache
def trained(seed: int) -> TinyNetwork:
    return train_tiny_network(seed)


@cache
def probabilities(seed: int) -> np.ndarray:
    x, _ = scaled_iris()
    return softmax(trained(seed).raw_outputs(x))


def accuracy(seed: int) -> float:
    _, species = scaled_iris()
    return float(np.mean(probabilities(seed).argmax(axis=1) == species))


def well_trained() -> list[int]:
    return [seed for seed in SEEDS if accuracy(seed) >= 0.9]


def largest_disagreement() -> tuple[float, int, int, int]:
    """Return (difference, seed_a, seed_b, flower) as the chapter's search finds them."""
    best = (0.0, -1, -1, -1)
    seeds = well_trained()
    for i, seed_a in enumerate(seeds):
        for seed_b in seeds[i + 1 :]:
            disagreement = np.abs(probabilities(seed_a) - probabilities(seed_b)).max(axis=1)
            flower = int(np.argmax(disagreement))
            if disagreement[flower] > best[0]:
                best = (float(disagreement[flower]), seed_a, seed_b, flower)
    return best



def test_dead_seeds_stay_at_one_third() -> None:
    x, _ = scaled_iris()
    dead = [
        s for s in SEEDS if np.all(np.maximum(0.0, x @ trained(s).w1 + trained(s).b1) == 0.0)
    ]
    assert len(dead) == 4
    assert sorted(dead + well_trained()) == list(SEEDS)
    for seed in dead:
        assert_allclose(probabilities(seed), 1 / 3, atol=1e-12)


def test_all_well_trained_seeds_reach_the_same_accuracy() -> None:
    seeds = well_trained()
    assert len(seeds) == 16
    assert {round(accuracy(s), 12) for s in seeds} == {round(143 / 150, 12)}
    assert_allclose(accuracy(seeds[0]), 0.953, atol=5e-4)


def test_chosen_seeds_and_flower() -> None:
    difference, seed_a, seed_b, flower = largest_disagreement()
    assert (seed_a, seed_b, flower) == (6, 9, 68)
    assert accuracy(seed_a) >= 0.9 and accuracy(seed_b) >= 0.9
    assert difference > 0.15
    _, species = scaled_iris()
    assert SPECIES[species[flower]] == "versicolor"
    measurements, _ = load_iris()
    assert_allclose(measurements[flower, [3, 1]], [1.5, 2.2])  # petal width, sepal width


def test_chosen_flower_has_a_virginica_twin() -> None:
    x, species = scaled_iris()
    twins = [i for i in range(len(x)) if i != 68 and np.array_equal(x[i], x[68])]
    assert twins == [119]  # flower number 120, counting from 1
    assert SPECIES[species[119]] == "virginica"


def test_two_seed_probabilities_as_stated() -> None:
    a, b = probabilities(6)[68], probabilities(9)[68]
    assert_allclose(a, [0.000, 0.513, 0.487], atol=5e-4)
    assert_allclose(b, [0.000, 0.321, 0.679], atol=5e-4)
    # "right, but barely" and "wrong, and fairly sure of it"
    assert a.argmax() == 1 and a[1] - a[2] < 0.05
    assert b.argmax() == 2 and b[2] > 2 * b[1] - 0.01


def test_range_of_versicolor_probability_across_seeds() -> None:
    values = [probabilities(s)[68][1] for s in well_trained()]
    assert_allclose([min(values), max(values)], [0.321, 0.513], atol=5e-4)


# --- The page itself -------------------------------------------------------------------------


def test_every_pasted_glue_name_is_glued_in_the_chapter() -> None:
    text = CHAPTER.read_text()
    pasted = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))
    glued = set(re.findall(r'glue\(\s*f?"([A-Za-z0-9_{}]+)"', text))
    patterns = [re.compile("^" + re.sub(r"\{[^}]+\}", "[a-z_]+", name) + "$") for name in glued]
    missing = [name for name in pasted if not any(p.match(name) for p in patterns)]
    assert not missing, missing
    assert all(name.startswith("ch3_") for name in pasted)


def test_chapter_is_the_home_of_shift_and_sigmoid_and_links_the_rest() -> None:
    text = CHAPTER.read_text()
    assert "(properties-shift)=\n## Adding a constant" in text
    assert "(properties-sigmoid)=\n## Two classes" in text
    assert "literalinclude" not in text
    assert "{ref}`general-stable-softmax`" in text
    assert "{ref}`argmax-train-decide`" in text
    assert "to the last digit" not in text


def test_chapter_figures_are_named() -> None:
    text = CHAPTER.read_text()
    for name in ("fig-softmax-temperature", "fig-softmax-two-seeds"):
        assert f"name: {name}" in text
