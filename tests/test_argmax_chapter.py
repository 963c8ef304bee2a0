"""The ArgMax chapter's numbers, recomputed with the package code the chapter runs.

Each test mirrors one code cell of book/argmax.md and checks the values the prose glues, at the
precision the prose prints them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from softmax_course.lessons.example import FLOWER, FLOWER_NUMBER, RAW_OUTPUTS, SPECIES, load_iris
from softmax_course.lessons.maths import argmax_onehot, numerical_jacobian, softmax
from softmax_course.lessons.network import (
    RUNNING_NETWORK,
    feature_ranges,
    network_inputs,
    scaled_iris,
)
from tests.conftest import ROOT

CHAPTER = ROOT / "book" / "argmax.md"

# The worked example of the chapter: z_setosa = w * x + b, and the flower is a virginica.
X, W, B = 0.5, 2.0, 0.43
TARGET = np.array([0.0, 0.0, 1.0])
LEARNING_RATE = 0.1


def raw_outputs(weight: float) -> np.ndarray:
    return np.array([weight * X + B, RAW_OUTPUTS[1], RAW_OUTPUTS[2]])


def loss(weight: float) -> float:
    return float(np.sum((argmax_onehot(raw_outputs(weight)) - TARGET) ** 2))


def test_the_flower_is_a_real_setosa_row_of_the_iris_data() -> None:
    measurements, species = load_iris()
    assert_array_equal(measurements[FLOWER_NUMBER - 1], FLOWER)
    assert SPECIES[species[FLOWER_NUMBER - 1]] == "setosa"
    # "the widest petals of any setosa in the data"
    setosa_petal_widths = measurements[species == 0, 3]
    assert FLOWER[3] == setosa_petal_widths.max()
    assert np.count_nonzero(setosa_petal_widths == FLOWER[3]) == 1


def test_the_running_network_gives_the_raw_outputs_rounded_to_two_decimals() -> None:
    raw = RUNNING_NETWORK.raw_outputs(network_inputs(FLOWER))
    assert_array_equal(np.round(raw, 2), RAW_OUTPUTS)
    # Not a coincidence of rounding at a boundary: every raw output is well inside its interval.
    assert np.all(np.abs(raw - RAW_OUTPUTS) < 0.0049)


def test_the_network_inputs_are_the_scaled_petal_and_sepal_widths() -> None:
    low, high = feature_ranges()
    assert_array_equal(low, [0.1, 2.0])
    assert_array_equal(high, [2.5, 4.4])
    np.testing.assert_allclose(network_inputs(FLOWER), [0.5 / 2.4, 1.5 / 2.4], rtol=1e-12)
    x, _ = scaled_iris()
    assert x.min() == 0.0 and x.max() == 1.0


def test_both_hidden_units_fire_for_the_flower() -> None:
    net = RUNNING_NETWORK
    pre = network_inputs(FLOWER) @ net.w1 + net.b1
    assert np.all(pre > 0)


def test_the_weights_are_written_to_two_decimals() -> None:
    for array in (RUNNING_NETWORK.w1, RUNNING_NETWORK.b1, RUNNING_NETWORK.w2, RUNNING_NETWORK.b2):
        assert_array_equal(np.round(array, 2), array)


def test_the_running_network_is_a_fair_classifier() -> None:
    x, species = scaled_iris()
    correct = int(np.sum(RUNNING_NETWORK.raw_outputs(x).argmax(axis=1) == species))
    assert correct == 144
    assert correct / len(species) > 0.9


def test_raw_outputs_are_not_probabilities() -> None:
    z = RAW_OUTPUTS
    assert [f"{v:.2f}" for v in z] == ["1.43", "-0.40", "0.23"]
    assert z[0] > 1 and z[1] < 0
    assert f"{np.sum(z):.2f}" == "1.26"
    assert f"{np.max(z):.2f}" == "1.43"


def test_argmax_of_the_example_is_setosa() -> None:
    onehot = argmax_onehot(RAW_OUTPUTS)
    assert_array_equal(onehot, [1.0, 0.0, 0.0])
    assert SPECIES[int(np.argmax(onehot))] == "setosa"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([0.9, 0.9, -0.2], [1, 0, 0]),
        ([-0.2, 0.9, 0.9], [0, 1, 0]),
        ([0.0, 0.0, 0.0], [1, 0, 0]),
        ([-0.1, 0.7, 0.7], [0, 1, 0]),
        ([0.7, 0.7, -0.1], [1, 0, 0]),
    ],
)
def test_ties_pick_the_first_maximal_entry(raw: list[float], expected: list[int]) -> None:
    assert_array_equal(argmax_onehot(raw), expected)
    assert int(np.argmax(raw)) == expected.index(1)


def test_ties_pick_the_first_in_every_row_of_a_batch() -> None:
    batch = [[0.9, 0.9, -0.2], [-0.2, 0.9, 0.9], RAW_OUTPUTS]
    assert_array_equal(argmax_onehot(batch), [[1, 0, 0], [0, 1, 0], [1, 0, 0]])


def test_numerical_jacobian_at_the_example_is_all_zeros() -> None:
    jacobian = numerical_jacobian(argmax_onehot, RAW_OUTPUTS)
    assert jacobian.shape == (3, 3)
    assert np.count_nonzero(jacobian == 0) == 9
    gap = np.max(RAW_OUTPUTS) - np.sort(RAW_OUTPUTS)[-2]
    assert f"{gap:.2f}" == "1.20"


def test_sweep_is_a_step_with_zero_slope_away_from_the_jump() -> None:
    z = RAW_OUTPUTS
    sweep = np.linspace(-1.0, 2.0, 600)
    jump = max(z[1], z[2])
    assert (f"{sweep[0]:.0f}", f"{sweep[-1]:.0f}", f"{jump:.2f}") == ("-1", "2", "0.23")
    assert np.min(np.abs(sweep - jump)) > 1e-3, "the grid must miss the jump"
    outputs, slopes = [], []
    for z_setosa in sweep:
        raw = np.array([z_setosa, z[1], z[2]])
        outputs.append(argmax_onehot(raw)[0])
        slopes.append(numerical_jacobian(argmax_onehot, raw)[0, 0])
    assert_array_equal(outputs, (sweep >= jump).astype(float))
    assert np.max(np.abs(slopes)) == 0.0
    # At the tie itself setosa, listed first, wins.
    assert argmax_onehot([jump, z[1], z[2]])[0] == 1.0


def test_central_difference_at_the_jump_blows_up_as_one_over_2h() -> None:
    z = RAW_OUTPUTS
    at_jump = np.array([max(z[1], z[2]), z[1], z[2]])
    steps = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6]
    slopes = [numerical_jacobian(argmax_onehot, at_jump, h=h)[0, 0] for h in steps]
    np.testing.assert_allclose(slopes, [1 / (2 * h) for h in steps], rtol=1e-9)
    expected = ["5", "50", "500", "5,000", "50,000", "500,000"]
    assert [f"{s:,.0f}" for s in slopes] == expected
    assert (f"{steps[0]:.0e}", f"{steps[-1]:.0e}") == ("1e-01", "1e-06")


def test_worked_weight_update_is_zero() -> None:
    assert f"{raw_outputs(W)[0]:.2f}" == "1.43"
    assert loss(W) == 2.0
    error_signal = 2 * (argmax_onehot(raw_outputs(W)) - TARGET)
    assert_array_equal(error_signal, [2.0, 0.0, -2.0])
    dloss_dz = error_signal @ numerical_jacobian(argmax_onehot, raw_outputs(W))
    assert_array_equal(dloss_dz, [0.0, 0.0, 0.0])
    dloss_dw = dloss_dz[0] * X
    assert abs(dloss_dw) == 0.0
    w_new = W - LEARNING_RATE * dloss_dw
    assert w_new == W and loss(w_new) == 2.0
    # The direct finite difference of the loss in w agrees: flat.
    assert (loss(W + 1e-6) - loss(W - 1e-6)) / 2e-6 == 0.0


def test_a_better_weight_lies_across_the_plateau() -> None:
    w_flip = (RAW_OUTPUTS[2] - B) / X
    assert f"{w_flip:.1f}" == "-0.4"
    assert f"{W - w_flip:.1f}" == "2.4"
    assert loss(w_flip - 1e-3) == 0.0
    assert loss(w_flip) == 2.0  # the tie goes to setosa
    weights = np.linspace(w_flip + 1e-3, 3.0, 200)
    assert all(loss(v) == 2.0 for v in weights)


def test_softmax_slope_is_not_zero() -> None:
    slope = numerical_jacobian(softmax, RAW_OUTPUTS)[0, 0]
    p = softmax(RAW_OUTPUTS)[0]
    assert f"{slope:.3f}" == "0.216"
    np.testing.assert_allclose(slope, p * (1 - p), atol=1e-8)
    np.testing.assert_allclose(slope, 0.2161, atol=5e-5)


def test_argmax_after_softmax_gives_the_same_decision() -> None:
    assert_array_equal(argmax_onehot(softmax(RAW_OUTPUTS)), argmax_onehot(RAW_OUTPUTS))


def test_every_glue_name_in_the_prose_is_glued_with_the_chapter_prefix() -> None:
    text = CHAPTER.read_text()
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))
    glued = set(re.findall(r'glue\(\s*f?"([A-Za-z0-9_{}]+)"', text))
    patterns = [re.compile("^" + re.sub(r"\{[^}]+\}", "[a-z0-9_]+", name) + "$") for name in glued]
    assert used, "the chapter glues no numbers"
    missing = [name for name in used if not any(p.match(name) for p in patterns)]
    assert not missing, f"used but never glued: {sorted(missing)}"
    assert all(name.startswith("ch1_") for name in glued)


def test_the_notation_and_the_train_decide_home_are_in_the_chapter() -> None:
    text = CHAPTER.read_text()
    assert "(argmax-train-decide)=\n## Common practice" in text
    assert "(argmax-network)=\n## Where the raw outputs come from" in text
    assert "Formulas number the classes from one" in text and "Code counts from zero" in text


def test_every_figure_has_a_caption_alt_text_and_is_referenced() -> None:
    text = CHAPTER.read_text()
    names = re.findall(r":    name: (fig-argmax-[a-z-]+)", text)
    assert len(names) == len(set(names)) == 5
    assert text.count(":    caption: ") == text.count(":    alt: ") == len(names)
    for name in names:
        assert f"{{numref}}`{name}`" in text, name
