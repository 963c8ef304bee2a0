"""Chapter 7 (Training on real iris): the split, backprop, accuracy, the raw outputs' paths."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup
from numpy.testing import assert_allclose

from softmax_course.lessons.example import load_iris
from softmax_course.lessons.losses import cross_entropy, cross_entropy_grad
from softmax_course.lessons.maths import softmax
from softmax_course.lessons.training import (
    Adam,
    GradientDescent,
    History,
    Params,
    backward,
    forward,
    init_params,
    split_indices,
    standardise,
    train,
)
from tests.conftest import ROOT

CHAPTER = ROOT / "book" / "training.md"
ACCURACY_THRESHOLD = 0.9
"""The test accuracy the chapter asserts for its networks, and this file checks."""
PLANE_TOLERANCE = 1e-9
PATH_SIZES = [4, 32, 32, 3]
PAGE_BUDGET = 1_000_000
"""A chapter page with its images, compressed as a server would send it, in bytes."""

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture(scope="module")
def data() -> Data:
    """The chapter's split (seed 0, 30 % test) with features standardised on the training part."""
    measurements, species = load_iris()
    train_rows, test_rows = split_indices(species, test_fraction=0.3, seed=0)
    x_train, x_test = standardise(measurements[train_rows], measurements[test_rows])
    return x_train, species[train_rows], x_test, species[test_rows]


@pytest.fixture(scope="module")
def paths(data: Data) -> dict[str, np.ndarray]:
    """Every training flower's raw outputs at every step, as the chapter records them."""
    recorded = {}
    for name, optimiser in {"gd": GradientDescent(0.1), "adam": Adam(0.01)}.items():
        params = init_params(PATH_SIZES, seed=2, zero_last=True)
        history = train(params, data, steps=1000, optimiser=optimiser, record_raw=True)
        recorded[name] = np.array(history.raw_outputs)
    return recorded


# The split


def test_split_is_stratified_disjoint_and_fixed_by_the_seed() -> None:
    _, species = load_iris()
    train_rows, test_rows = split_indices(species, test_fraction=0.3, seed=0)
    assert len(train_rows) == 105 and len(test_rows) == 45
    assert not set(train_rows) & set(test_rows)
    assert sorted([*train_rows, *test_rows]) == list(range(150))
    assert np.bincount(species[test_rows]).tolist() == [15, 15, 15]
    again = split_indices(species, test_fraction=0.3, seed=0)
    assert np.array_equal(again[1], test_rows)
    assert not np.array_equal(split_indices(species, test_fraction=0.3, seed=1)[1], test_rows)


def test_standardise_uses_the_training_statistics_only(data: Data) -> None:
    x_train, _, x_test, _ = data
    assert_allclose(x_train.mean(axis=0), 0, atol=1e-12)
    assert_allclose(x_train.std(axis=0), 1, atol=1e-12)
    assert np.abs(x_test.mean(axis=0)).max() > 1e-3  # the test part is not re-centred


# Backpropagation by hand


def flat_loss(
    params: Params, x: np.ndarray, y: np.ndarray, layer: int, which: int
) -> Callable[[np.ndarray], float]:
    """The mean cross-entropy as a function of one parameter array, for finite differences."""
    shape = params[layer][which].shape

    def loss(values: np.ndarray) -> float:
        changed = [list(pair) for pair in params]
        changed[layer][which] = values.reshape(shape)
        return cross_entropy(forward([tuple(pair) for pair in changed], x)[0], y)

    return loss


@pytest.mark.parametrize("zero_last", [False, True])
def test_backward_matches_finite_differences(data: Data, zero_last: bool) -> None:
    x, y = data[0][:20], data[1][:20]
    params = init_params([4, 5, 6, 3], seed=7, zero_last=zero_last)
    raw, inputs = forward(params, x)
    grads = backward(params, inputs, cross_entropy_grad(raw, y))
    h = 1e-6
    for layer, pair in enumerate(params):
        for which, array in enumerate(pair):
            loss = flat_loss(params, x, y, layer, which)
            flat = array.ravel()
            measured = np.array(
                [(loss(flat + h * e) - loss(flat - h * e)) / (2 * h) for e in np.eye(flat.size)]
            )
            assert_allclose(grads[layer][which].ravel(), measured, atol=1e-7)


def test_a_zero_initialised_last_layer_starts_at_log_3(data: Data) -> None:
    params = init_params(PATH_SIZES, seed=2, zero_last=True)
    raw = forward(params, data[0])[0]
    assert np.all(raw == 0)
    assert cross_entropy(raw, data[1]) == pytest.approx(np.log(3), abs=1e-15)


# Training and deciding


@pytest.mark.parametrize(
    ("sizes", "steps"), [([4, 3], 500), ([4, 16, 3], 1000)], ids=["softmax-regression", "hidden"]
)
def test_trained_networks_pass_the_accuracy_threshold(
    data: Data, sizes: list[int], steps: int
) -> None:
    params = init_params(sizes, seed=1)
    history = train(params, data, steps=steps, optimiser=GradientDescent(0.1))
    assert history.loss[-1] < history.loss[0] / 5
    assert history.test_accuracy[-1] >= ACCURACY_THRESHOLD
    assert history.train_accuracy[-1] >= ACCURACY_THRESHOLD
    raw = forward(params, data[2])[0]
    assert np.array_equal(np.argmax(raw, axis=1), np.argmax(softmax(raw), axis=1))


def test_history_has_one_entry_per_step_plus_the_start(data: Data) -> None:
    history = train(init_params([4, 3], seed=1), data, steps=4, optimiser=GradientDescent(0.1))
    assert isinstance(history, History)
    assert len(history.loss) == len(history.test_accuracy) == 5
    assert history.raw_outputs == []


# The paths of the raw outputs


def test_paths_start_at_the_origin(paths: dict[str, np.ndarray]) -> None:
    for recorded in paths.values():
        assert recorded.shape == (1001, 105, 3)
        assert np.all(recorded[0] == 0)


def test_gradient_descent_keeps_the_raw_outputs_on_the_plane(paths: dict[str, np.ndarray]) -> None:
    assert np.max(np.abs(paths["gd"].sum(axis=-1))) < PLANE_TOLERANCE
    assert np.max(np.abs(paths["gd"])) > 5  # the paths do move, within the plane


def test_adam_drifts_far_off_the_plane(paths: dict[str, np.ndarray]) -> None:
    assert np.max(np.abs(paths["adam"].sum(axis=-1))) > 1e6 * PLANE_TOLERANCE
    assert np.max(np.abs(paths["adam"].sum(axis=-1))) > 1


def test_the_probabilities_do_not_see_the_drift(paths: dict[str, np.ndarray]) -> None:
    adam = paths["adam"]
    centred = adam - adam.mean(axis=-1, keepdims=True)
    assert np.max(np.abs(softmax(adam) - softmax(centred))) < 1e-12


def test_adams_first_step_breaks_the_zero_row_sums(data: Data) -> None:
    params = init_params(PATH_SIZES, seed=2, zero_last=True)
    raw, inputs = forward(params, data[0])
    grads = backward(params, inputs, cross_entropy_grad(raw, data[1]))
    assert np.abs(grads[-1][0].sum(axis=1)).max() < 1e-15
    Adam(0.01).step(params, grads)
    moved = np.abs(params[-1][0]).sum(axis=1) > 0
    assert moved.any()
    assert np.all(np.abs(params[-1][0][moved].sum(axis=1)) > 0.005)


# The chapter itself


def test_every_glue_name_is_prefixed_and_defined() -> None:
    text = CHAPTER.read_text()
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))
    defined = set(re.findall(r'glue\("([A-Za-z0-9_]+)"', text))
    templated = re.findall(r'glue\(f"([A-Za-z0-9_]+)\{', text)
    assert all(name.startswith("ch7_") for name in used | defined)
    assert not {n for n in used - defined if not any(n.startswith(t) for t in templated)}
    assert "(training)=" in text


def test_built_page_shows_the_glued_numbers(built_book: Path) -> None:
    soup = BeautifulSoup((built_book / "book" / "training.html").read_text(), "html.parser")
    article = soup.find("article")
    for cell in article.select("div.cell"):
        cell.decompose()
    prose = " ".join(" ".join(tag.get_text(" ") for tag in article.find_all(["p", "li"])).split())
    for shown in ("105", "45", "1e-09", "1.0986", "95.6 %", "90 %"):
        assert shown in prose, shown
    sums = re.findall(r"largest sum (\S+) ?\)", prose)
    gd_sum, adam_sum = sorted({float(value) for value in sums})  # list items repeat their <p>
    assert gd_sum < PLANE_TOLERANCE < 1 < adam_sum, sums


def test_built_page_has_its_figures_and_stays_within_the_weight_budget(built_book: Path) -> None:
    page = built_book / "book" / "training.html"
    soup = BeautifulSoup(page.read_text(), "html.parser")
    article = soup.find("article")
    names = ["fig-training-curves", "fig-training-regions", "fig-training-paths-3d"]
    for name in [*names, "fig-training-paths-plane"]:
        figure = article.find(id=name)
        assert figure is not None and figure.find("figcaption") is not None, name
        assert len(figure.find("img").get("alt", "")) > 80, name
    images = {img["src"] for img in article.find_all("img")}
    weight = len(gzip.compress(page.read_bytes())) + sum(
        len(gzip.compress((page.parent / src).read_bytes())) for src in images
    )
    assert weight < PAGE_BUDGET, weight
