"""The tally of A/B votes: Wilson intervals and Bradley–Terry against hand-worked answers, vote files read strictly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vidtoon.compare.tally import bradley_terry, strongly_connected, tally, wilson_interval
from vidtoon.errors import InputError


def test_wilson_interval_known_values():
    # 8 of 10: the textbook Wilson interval (z = 1.96) is 0.490 to 0.943
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    # all wins: the upper end is 1 and the lower end n / (n + z²)
    low, high = wilson_interval(10, 10)
    assert high == pytest.approx(1.0) and low == pytest.approx(10 / (10 + 1.959964**2), abs=1e-6)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 1 - 10 / (10 + 1.959964**2)), abs=1e-6)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    # symmetric: k of n for one side is n - k of n for the other
    assert wilson_interval(3, 7) == pytest.approx(tuple(1 - v for v in reversed(wilson_interval(4, 7))))


def test_bradley_terry_two_methods_is_the_win_ratio():
    # A beat B 3 times, B beat A once: p_A / p_B = 3, so (0.75, 0.25)
    assert bradley_terry(np.array([[0, 3], [1, 0]])) == pytest.approx([0.75, 0.25], abs=1e-8)


def test_bradley_terry_hand_solved_three_methods():
    # Strengths 4 : 2 : 1 and wins exactly as expected from them: A-B 2:1 (of 3), A-C 4:1 (of 5), B-C 2:1 (of 3).
    # The likelihood equations W_i = sum_j n_ij p_i / (p_i + p_j) hold at (4, 2, 1) / 7, the unique MLE.
    wins = np.array([[0, 2, 4], [1, 0, 2], [1, 1, 0]])
    assert bradley_terry(wins) == pytest.approx(np.array([4, 2, 1]) / 7, abs=1e-7)


def test_bradley_terry_needs_a_prior_when_a_method_never_lost():
    wins = np.array([[0, 5], [0, 0]])
    assert not strongly_connected(wins)
    with pytest.raises(ValueError, match="does not exist"):
        bradley_terry(wins)
    # half a win each way: (5.5, 0.5) -> 11 : 1
    assert bradley_terry(wins, prior=0.5) == pytest.approx([11 / 12, 1 / 12], abs=1e-8)


def _votes(path, choices, *, study="s1", rater="r1"):
    trials = [
        {"trial": i, "pair": [a, b], "left": a, "right": b, "question": q, "choice": c, "time": "2026-01-01T00:00:00Z"}
        for i, (a, b, q, c) in enumerate(choices)
    ]
    path.write_text(json.dumps({"format": "vidtoon-ab-votes", "study": study, "rater": rater, "trials": trials}))
    return path


def test_tally_counts_wins_per_question_and_names_methods(tmp_path):
    votes = [("m1", "m2", "style", "m1"), ("m1", "m2", "flicker", "m2"), ("m1", "m3", "style", "m1"), ("m2", "m3", "style", "m3")]
    one = _votes(tmp_path / "a.json", votes)
    two = _votes(tmp_path / "b.json", votes[:1], rater="r2")
    key = tmp_path / "key.json"
    key.write_text(
        json.dumps({"study": "s1", "methods": {"m1": {"label": "toon"}, "m2": {"label": "sketch"}, "m3": {"label": "paint"}}})
    )
    result = tally([one, two, one], key=key)  # the same file twice counts once
    assert (result.votes, result.raters, result.files) == (5, 2, 3)
    style = {s.method: s for s in result.scores if s.question == "style"}
    assert (style["toon"].wins, style["toon"].trials, style["toon"].rank) == (3, 3, 1)
    assert (style["sketch"].wins, style["sketch"].trials) == (0, 3)
    assert (style["paint"].wins, style["paint"].trials) == (1, 2)
    assert style["toon"].low == pytest.approx(wilson_interval(3, 3)[0])
    flicker = {s.method: s for s in result.scores if s.question == "flicker"}
    assert flicker["sketch"].rate == 1.0 and "paint" not in flicker
    assert "style" in result.regularised  # toon never lost on style
    assert json.loads(json.dumps(result.to_dict()))["votes"] == 5


def test_vote_files_are_read_strictly(tmp_path):
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(InputError, match="not a JSON vote file"):
        tally([tmp_path / "junk.json"])
    (tmp_path / "other.json").write_text(json.dumps({"format": "something", "trials": []}))
    with pytest.raises(InputError, match="not a vote file"):
        tally([tmp_path / "other.json"])
    a = _votes(tmp_path / "a.json", [("m1", "m2", "style", "m1")], study="s1")
    b = _votes(tmp_path / "b.json", [("m1", "m2", "style", "m1")], study="s2")
    with pytest.raises(InputError, match="2 different pages"):
        tally([a, b])
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"study": "s2", "methods": {}}))
    with pytest.raises(InputError, match="this key is for page s2"):
        tally([a], key=key)
    bad = _votes(tmp_path / "bad.json", [("m1", "m2", "style", "m9")])
    with pytest.raises(InputError, match="malformed"):
        tally([bad])


@pytest.mark.parametrize(
    "trial",
    [
        {"trial": 0, "pair": [1, "m1"], "question": "style", "choice": 1},  # not method ids: sorted() raised TypeError
        {"trial": [0], "pair": ["m1", "m2"], "question": "style", "choice": "m1"},  # unhashable trial number
        {"trial": 0, "pair": ["m1", "m1"], "question": "style", "choice": "m1"},  # a method against itself
    ],
)
def test_malformed_trials_are_one_clear_error(tmp_path, trial):
    path = tmp_path / "votes.json"
    path.write_text(json.dumps({"format": "vidtoon-ab-votes", "study": "s1", "rater": "r1", "trials": [trial]}))
    with pytest.raises(InputError, match="malformed"):
        tally([path])


def test_votes_for_methods_the_key_does_not_list_are_refused(tmp_path):
    votes = _votes(tmp_path / "a.json", [("m1", "m2", "style", "m1"), ("m1", "m9", "style", "m9")])
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"study": "s1", "methods": {"m1": {"label": "toon"}, "m2": {"label": "sketch"}}}))
    with pytest.raises(InputError, match="m9 that this key does not list"):
        tally([votes], key=key)


def test_a_tie_shares_a_rank(tmp_path):
    # a cycle, m1 > m2 > m3 > m1: equal strengths, so no method is ranked above another
    votes = _votes(tmp_path / "a.json", [("m1", "m2", "style", "m1"), ("m2", "m3", "style", "m2"), ("m1", "m3", "style", "m3")])
    style = [s for s in tally([votes]).scores if s.question == "style"]
    assert [s.rank for s in style] == [1, 1, 1] and all(s.strength == pytest.approx(1 / 3) for s in style)
    assert json.loads(json.dumps(tally([votes]).to_dict()))["scores"][0]["rank"] == 1


def test_a_vote_file_without_a_rater_id_is_refused(tmp_path):
    # two such files would share the rater "None" and their votes on the same trials would be dropped as repeats
    path = tmp_path / "votes.json"
    trial = {"trial": 0, "pair": ["m1", "m2"], "question": "style", "choice": "m1"}
    path.write_text(json.dumps({"format": "vidtoon-ab-votes", "study": "s1", "trials": [trial]}))
    with pytest.raises(InputError, match="without its study and rater ids"):
        tally([path])


def test_a_folder_of_votes_is_named_as_a_folder(tmp_path):
    (tmp_path / "votes").mkdir()
    with pytest.raises(InputError, match="is a folder, not a vote file"):
        tally([tmp_path / "votes"])


def test_one_vote_file_given_as_a_plain_path_is_counted(tmp_path):
    one = _votes(tmp_path / "a.json", [("m1", "m2", "style", "m1")])
    assert (tally(str(one)).votes, tally(one).votes) == (1, 1)
