"""Chapter 2 (SoftMax): the numbers the page states, and the built page showing them."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from bs4 import BeautifulSoup
from numpy.testing import assert_allclose, assert_array_equal

from softmax_course.lessons.example import PUBLISHED_PROBABILITIES, RAW_OUTPUTS
from softmax_course.lessons.maths import argmax_onehot, numerical_jacobian, softmax
from tests.conftest import ROOT

CHAPTER = ROOT / "book" / "softmax.md"

EXACT = np.array([0.6842, 0.1098, 0.2061])
EXPONENTIALS = np.array([4.1787, 0.6703, 1.2586])
EXPONENTIAL_SUM = 6.1076
FOUR_DECIMALS = 5e-5


def early_rounding(raw: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """The hand calculation the chapter describes: round e**z to 2 decimals, divide, round."""
    rounded_exponentials = np.round(np.exp(raw), 2)
    rounded_total = float(rounded_exponentials.sum())
    early = rounded_exponentials / rounded_total
    return rounded_exponentials, rounded_total, early, np.round(early, 2)


def test_softmax_of_the_example_to_four_decimals() -> None:
    assert_allclose(softmax(RAW_OUTPUTS), EXACT, atol=FOUR_DECIMALS)


def test_exponentials_and_their_sum_to_four_decimals() -> None:
    exponentials = np.exp(RAW_OUTPUTS)
    assert_allclose(exponentials, EXPONENTIALS, atol=FOUR_DECIMALS)
    assert abs(exponentials.sum() - EXPONENTIAL_SUM) < FOUR_DECIMALS


def test_three_steps_agree_with_the_package() -> None:
    exponentials = np.exp(RAW_OUTPUTS)
    assert_allclose(exponentials / exponentials.sum(), softmax(RAW_OUTPUTS), rtol=0, atol=1e-15)


def test_probabilities_are_positive_and_sum_to_one() -> None:
    p = softmax(RAW_OUTPUTS)
    assert np.all(p > 0)
    assert abs(p.sum() - 1) < 1e-12


def test_exact_probabilities_round_to_068_011_021() -> None:
    assert_allclose(np.round(softmax(RAW_OUTPUTS), 2), [0.68, 0.11, 0.21], atol=1e-12)


def test_early_rounding_steps_match_the_chapter() -> None:
    rounded_exponentials, rounded_total, early, early_rounded = early_rounding(RAW_OUTPUTS)
    assert_allclose(rounded_exponentials, [4.18, 0.67, 1.26], atol=1e-12)
    assert abs(rounded_total - 6.11) < 1e-12
    assert_allclose(early, [0.6841, 0.1097, 0.2062], atol=FOUR_DECIMALS)
    assert_allclose(early_rounded, [0.68, 0.11, 0.21], atol=1e-12)
    # No exponential or quotient sits on a rounding tie, so the rounding rule cannot matter.
    for values in (np.exp(RAW_OUTPUTS) * 100, early * 100):
        assert np.all(np.abs(values - np.floor(values) - 0.5) > 0.01)


def test_early_rounding_does_not_give_the_published_numbers() -> None:
    *_, early_rounded = early_rounding(RAW_OUTPUTS)
    assert np.abs(early_rounded - PUBLISHED_PROBABILITIES).max() > 0.005
    assert np.abs(early_rounding(RAW_OUTPUTS)[2] - softmax(RAW_OUTPUTS)).max() < 2e-4


def test_hidden_digits_cannot_bring_versicolor_to_010() -> None:
    half_step = 0.005
    highest_setosa = softmax(RAW_OUTPUTS + half_step * np.array([1, -1, -1]))[0]
    lowest_versicolor = softmax(RAW_OUTPUTS + half_step * np.array([1, -1, 1]))[1]
    assert abs(highest_setosa - 0.6863) < FOUR_DECIMALS
    assert abs(lowest_versicolor - 0.1088) < FOUR_DECIMALS
    assert lowest_versicolor > 0.105  # so it never rounds to the published 0.10
    # The corner really is the minimum: sample the whole box of hidden digits.
    rng = np.random.default_rng(0)
    box = RAW_OUTPUTS + rng.uniform(-half_step, half_step, size=(10_000, 3))
    assert softmax(box)[:, 1].min() >= lowest_versicolor
    assert softmax(box)[:, 0].max() <= highest_setosa


def test_exercise_versicolor_needed_for_010() -> None:
    e = np.exp(RAW_OUTPUTS)
    q = PUBLISHED_PROBABILITIES[1]
    needed = np.log(q / (1 - q) * (e[0] + e[2]))
    assert abs(e[0] + e[2] - 5.4373) < FOUR_DECIMALS
    assert abs(needed - (-0.50)) < 0.005
    assert abs(softmax([RAW_OUTPUTS[0], needed, RAW_OUTPUTS[2]])[1] - q) < 1e-12


def test_differences_of_raw_outputs_become_ratios_of_probabilities() -> None:
    p = softmax(RAW_OUTPUTS)
    gap = RAW_OUTPUTS[0] - RAW_OUTPUTS[2]
    assert_allclose(p[0] / p[2], np.exp(gap), rtol=1e-12)
    assert f"{gap:.2f}" == "1.20" and f"{p[0] / p[2]:.2f}" == "3.32"
    # Log-probabilities are the raw outputs up to one shared constant.
    shifted = np.log(p) - RAW_OUTPUTS
    assert_allclose(shifted, shifted[0], atol=1e-12)


def test_derivative_of_setosa_is_p_times_one_minus_p() -> None:
    p = softmax(RAW_OUTPUTS)[0]
    assert_allclose(numerical_jacobian(softmax, RAW_OUTPUTS)[0, 0], p * (1 - p), atol=1e-8)
    assert f"{p * (1 - p):.4f}" == "0.2161"


def test_another_base_is_a_temperature() -> None:
    base2 = 2.0**RAW_OUTPUTS / np.sum(2.0**RAW_OUTPUTS)
    assert_allclose(base2, softmax(RAW_OUTPUTS * np.log(2.0)), rtol=1e-12)
    assert_allclose(base2, softmax(RAW_OUTPUTS / (1 / np.log(2.0))), rtol=1e-12)
    assert f"{base2[0]:.3f}" == "0.583"


def test_dividing_raw_outputs_by_their_sum_gives_no_probabilities() -> None:
    shares = RAW_OUTPUTS / RAW_OUTPUTS.sum()
    assert shares[1] < 0, "versicolor's share is negative"
    assert shares[0] > 1, "setosa's share exceeds certainty"
    assert [f"{v:.3f}" for v in shares] == ["1.135", "-0.317", "0.183"]


def test_the_printed_numbers_are_no_rounding_of_the_softmax() -> None:
    exact_rounded = np.round(softmax(RAW_OUTPUTS), 2)
    assert list(exact_rounded != PUBLISHED_PROBABILITIES) == [True, True, False]
    *_, early_rounded = early_rounding(RAW_OUTPUTS)
    assert_array_equal(early_rounded, exact_rounded)


def test_chapter_links_to_the_homes_of_repeated_ideas() -> None:
    text = CHAPTER.read_text()
    assert "literalinclude" not in text, "the softmax listing lives in the general-equation chapter"
    assert "{ref}`general-stable-softmax`" in text
    assert "## Train with SoftMax" not in text
    assert "{ref}`argmax-train-decide`" in text
    assert text.count("**logits**") == 1
    assert "torch.nn.functional.cross_entropy" in text and "from_logits=True" in text
    assert "10^{-4}" not in text


def test_every_glue_name_in_the_prose_is_glued_in_the_chapter() -> None:
    text = CHAPTER.read_text()
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))
    glued = set(re.findall(r'glue\(\s*f?"([A-Za-z0-9_{}]+)"', text))
    patterns = [re.compile("^" + re.sub(r"\{[^}]+\}", "[a-z0-9_]+", name) + "$") for name in glued]
    missing = [name for name in used if not any(p.match(name) for p in patterns)]
    assert used and not missing, missing
    assert all(name.startswith("ch2_") for name in used)


def test_argmax_of_probabilities_is_argmax_of_raw_outputs() -> None:
    assert_array_equal(argmax_onehot(softmax(RAW_OUTPUTS)), argmax_onehot(RAW_OUTPUTS))
    assert_array_equal(argmax_onehot(RAW_OUTPUTS), [1.0, 0.0, 0.0])


def test_built_page_shows_the_glued_probabilities(built_book: Path) -> None:
    soup = BeautifulSoup((built_book / "book" / "softmax.html").read_text(), "html.parser")
    article = soup.find("article") or soup
    for cell in article.select("div.cell"):
        cell.decompose()
    prose = " ".join(tag.get_text(" ") for tag in article.find_all(["p", "li"]))
    for shown in ("0.684", "0.110", "0.206", "4.1787", "0.6703", "1.2586", "6.1076"):
        assert shown in prose, shown


def test_built_page_keeps_the_rounding_aside_in_a_dropdown(built_book: Path) -> None:
    soup = BeautifulSoup((built_book / "book" / "softmax.html").read_text(), "html.parser")
    article = soup.find("article") or soup
    dropdowns = [d for d in article.find_all("details") if "write-ups" in d.get_text()]
    assert len(dropdowns) == 1
    aside = dropdowns[0].get_text(" ")
    for shown in ("0.69", "0.10", "0.21", "0.68", "0.11", "0.1088", "-0.50"):
        assert shown in aside.replace("\N{MINUS SIGN}", "-"), shown
    assert "within a tolerance" in aside


def test_built_page_has_one_captioned_figure_with_alt_text(built_book: Path) -> None:
    soup = BeautifulSoup((built_book / "book" / "softmax.html").read_text(), "html.parser")
    article = soup.find("article") or soup
    widget = article.find(id="fig-softmax-argmax-widget-static")
    fallback = set(widget.find_all("img")) if widget is not None else set()
    images = [img for img in article.find_all("img") if img not in fallback]
    assert len(images) == 1  # besides the interactive figure's static fallback
    assert images[0].get("alt", "").startswith("Two bar charts")
    figure = article.find(id="fig-softmax-bars")
    assert figure is not None and figure.find("figcaption") is not None
