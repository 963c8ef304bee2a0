"""Chapter 8 (SoftMax elsewhere): sampling at a temperature, attention, causal masking, the page."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup
from numpy.testing import assert_allclose

from softmax_course.lessons.attention import attention, causal_mask, sample_tokens
from softmax_course.lessons.maths import softmax
from tests.conftest import ROOT

CHAPTER = ROOT / "book" / "softmax-elsewhere.md"
SCORES = np.array([3.0, 2.4, 1.6, 1.1, 0.3, -1.5])
TEMPERATURES = (0.5, 1.0, 2.0)


def toy_sentence() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chapter's queries, keys and values for five tokens of length 4."""
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(5, 4))
    w_query, w_key, w_value = (rng.normal(scale=0.5, size=(4, 4)) for _ in range(3))
    return embeddings @ w_query, embeddings @ w_key, embeddings @ w_value


# Sampling at a temperature


def test_sample_frequencies_match_the_probabilities() -> None:
    rng = np.random.default_rng(1)
    for temperature in TEMPERATURES:
        draws = sample_tokens(SCORES, temperature=temperature, size=10_000, rng=rng)
        frequencies = np.bincount(draws, minlength=SCORES.size) / draws.size
        assert np.abs(frequencies - softmax(SCORES / temperature)).max() < 0.02


def test_sampling_is_fixed_by_the_seed_and_follows_the_temperature() -> None:
    first = sample_tokens(SCORES, temperature=1.0, size=50, rng=np.random.default_rng(4))
    again = sample_tokens(SCORES, temperature=1.0, size=50, rng=np.random.default_rng(4))
    assert np.array_equal(first, again)
    cold = sample_tokens(SCORES, temperature=0.01, size=200, rng=np.random.default_rng(4))
    assert np.all(cold == 0)  # nearly ArgMax: always the top token
    tops = [softmax(SCORES / t)[0] for t in TEMPERATURES]
    assert tops[0] > tops[1] > tops[2]


# Attention


def test_attention_weights_are_softmax_of_scaled_dot_products() -> None:
    q, k, v = toy_sentence()
    output, weights = attention(q, k, v)
    for i in range(5):
        scores = [q[i] @ k[j] / 2.0 for j in range(5)]  # sqrt(d) = 2
        assert_allclose(weights[i], softmax(scores), rtol=1e-14)
    assert_allclose(output, weights @ v, rtol=1e-14)
    assert np.all(weights > 0)
    assert np.abs(weights.sum(axis=1) - 1).max() < 1e-12


def test_causal_mask_is_zero_on_and_below_the_diagonal_and_minus_infinity_above() -> None:
    mask = causal_mask(4)
    assert np.all(mask[np.tri(4, dtype=bool)] == 0)
    assert np.all(mask[~np.tri(4, dtype=bool)] == -np.inf)


@pytest.mark.parametrize("seed", range(3))
def test_causal_weights_sum_to_one_with_masked_entries_exactly_zero(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q, k, v = (rng.normal(scale=3.0, size=(7, 8)) for _ in range(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from the -inf entries
        output, weights = attention(q, k, v, causal=True)
    above = ~np.tri(7, dtype=bool)
    assert np.all(weights[above] == 0.0)
    assert np.all(weights[~above] > 0)
    assert np.abs(weights.sum(axis=1) - 1).max() < 1e-12
    assert weights[0, 0] == 1.0
    assert_allclose(output[0], v[0], rtol=1e-15)


def test_the_chapters_causal_weights() -> None:
    q, k, v = toy_sentence()
    weights = attention(q, k, v)[1]
    causal = attention(q, k, v, causal=True)[1]
    assert np.array_equal(causal[-1], weights[-1])
    assert np.all(causal[~np.tri(5, dtype=bool)] == 0.0)
    assert np.abs(causal.sum(axis=1) - 1).max() < 1e-12


def test_a_fully_masked_row_has_no_weights_to_share() -> None:
    with np.errstate(invalid="ignore"):
        assert np.all(np.isnan(softmax(np.full(3, -np.inf))))


def test_the_scale_keeps_the_weights_soft_for_any_length() -> None:
    rng = np.random.default_rng(2)
    for length in (4, 64, 512):
        q, k = rng.normal(size=(1000, length)), rng.normal(size=(10, length))
        scores = q @ k.T
        assert abs(scores.std() / np.sqrt(length) - 1) < 0.1
        assert softmax(scores / np.sqrt(length)).max(axis=1).mean() < 0.4
        if length == 512:
            assert softmax(scores).max(axis=1).mean() > 0.9  # unscaled: nearly ArgMax


# The sigmoid


def test_two_class_softmax_is_the_sigmoid() -> None:
    a = np.linspace(-30, 30, 121)
    pairs = np.column_stack([a, np.zeros_like(a)])
    assert_allclose(softmax(pairs)[:, 0], 1 / (1 + np.exp(-a)), rtol=1e-12)


# The chapter itself


def test_every_glue_name_is_prefixed_and_defined() -> None:
    text = CHAPTER.read_text()
    used = set(re.findall(r"\{glue:text\}`([A-Za-z0-9_]+)", text))
    defined = set(re.findall(r'glue\("([A-Za-z0-9_]+)"', text))
    templated = re.findall(r'glue\(f"([A-Za-z0-9_]+)\{', text)
    assert all(name.startswith("ch8_") for name in used | defined)
    assert not {n for n in used - defined if not any(n.startswith(t) for t in templated)}
    assert "(softmax-elsewhere)=" in text
    assert "{ref}`softmax-properties`" in text and "{ref}`softmax-derivatives`" in text


def test_built_page_shows_the_glued_numbers(built_book: Path) -> None:
    soup = BeautifulSoup(
        (built_book / "book" / "softmax-elsewhere.html").read_text(), "html.parser"
    )
    article = soup.find("article")
    for cell in article.select("div.cell"):
        cell.decompose()
    prose = " ".join(" ".join(tag.get_text(" ") for tag in article.find_all(["p", "li"])).split())
    expected = [f"{softmax(SCORES / t)[0]:.3f}" for t in TEMPERATURES]
    expected.append(f"{1 / (1 + np.exp(-1.43)):.4f}")  # the sigmoid of the flower's setosa output
    for shown in ("10,000", "0.0", "1.0", "512", *expected):
        assert shown in prose, shown
    assert re.search(r"All 10 masked weights are exactly 0\.0", prose)


def test_built_page_has_a_heat_map_with_alt_text(built_book: Path) -> None:
    soup = BeautifulSoup(
        (built_book / "book" / "softmax-elsewhere.html").read_text(), "html.parser"
    )
    article = soup.find("article")
    for name in ("fig-elsewhere-sampling", "fig-elsewhere-attention"):
        figure = article.find(id=name)
        assert figure is not None and figure.find("figcaption") is not None, name
        assert len(figure.find("img").get("alt", "")) > 80, name
    assert "heat map" in article.find(id="fig-elsewhere-attention").find("img")["alt"]
