"""Tallying the votes of the blind A/B page: win rates with Wilson intervals and a Bradley–Terry ranking.

A vote file is what the page's "Download votes" button saves: `{"format": "vidtoon-ab-votes", "study": ...,
"rater": ..., "trials": [{"pair": [a, b], "left": a, "right": b, "question": "style", "choice": a, "time": ...}]}`
where a, b are the page's method ids (m1, m2, ...). The page's `key.json` turns ids back into method names.

Bradley–Terry: P(i beats j) = p_i / (p_i + p_j), fitted by Hunter's (2004) MM algorithm. Its maximum-likelihood
estimate exists only when every method has beaten, directly or through others, every other one (the "who beat
whom" graph is strongly connected); otherwise (say one method won every trial) each compared pair gets `prior`
pseudo-wins each way, and the report says so.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vidtoon.errors import InputError

log = logging.getLogger(__name__)

VOTES_FORMAT = "vidtoon-ab-votes"
Z_95 = 1.959963984540054  # the 97.5 % point of the standard normal
PRIOR_WHEN_UNCONNECTED = 0.5  # pseudo-wins each way per compared pair when the plain MLE does not exist


def wilson_interval(wins: float, trials: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval (low, high) for a proportion of `wins` in `trials`; (0, 1) with no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = wins / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def strongly_connected(wins: np.ndarray) -> bool:
    """Whether every method reaches every other along "i beat j" edges (`wins[i, j]` > 0): the condition for the
    Bradley–Terry MLE to exist (Hunter 2004, assumption 1)."""
    reach = (np.asarray(wins) > 0) | np.eye(len(wins), dtype=bool)
    for k in range(len(reach)):
        reach = reach | (reach[:, [k]] & reach[[k], :])
    return bool(reach.all())


def bradley_terry(wins: np.ndarray, *, prior: float = 0.0, tol: float = 1e-10, max_iter: int = 10_000) -> np.ndarray:
    """Bradley–Terry strengths by Hunter's MM algorithm: p_i <- W_i / sum_j n_ij / (p_i + p_j), renormalised.

    Args:
        wins: K×K array, `wins[i, j]` = times method i beat method j (the diagonal is ignored).
        prior: pseudo-wins added each way to every pair compared at least once (0: the plain MLE, which needs
            `strongly_connected(wins)`).
    Returns:
        K strengths summing to 1 (P(i beats j) = p_i / (p_i + p_j)); a method never compared keeps 0.
    Raises:
        ValueError: `wins` is not square and non-negative, or the plain MLE does not exist.
    """
    wins = np.array(wins, dtype=np.float64)
    if wins.ndim != 2 or wins.shape[0] != wins.shape[1] or (wins < 0).any():
        raise ValueError(f"wins must be a square non-negative matrix, got shape {wins.shape}")
    np.fill_diagonal(wins, 0)
    games = wins + wins.T
    if prior:
        wins = wins + prior * (games > 0)
        games = wins + wins.T
    played = games.sum(axis=1) > 0
    if not played.any():
        return np.zeros(len(wins))
    sub_wins, sub_games = wins[np.ix_(played, played)], games[np.ix_(played, played)]
    if not strongly_connected(sub_wins):
        raise ValueError("the Bradley–Terry MLE does not exist: some method never lost (or never won); use a prior")
    total_wins = sub_wins.sum(axis=1)
    p = np.full(len(sub_wins), 1 / len(sub_wins))
    for _ in range(max_iter):
        denominator = (sub_games / (p[:, None] + p[None, :])).sum(axis=1)
        updated = total_wins / denominator
        updated /= updated.sum()
        if np.abs(updated - p).max() < tol:
            p = updated
            break
        p = updated
    strengths = np.zeros(len(wins))
    strengths[played] = p
    return strengths


@dataclass(frozen=True)
class MethodScore:
    """One method's record on one question: `wins` of `trials`, the rate, its 95 % Wilson interval, BT strength and rank
    (1 + the methods stronger on that question: a tie shares a rank)."""

    question: str
    method: str
    wins: int
    trials: int
    rate: float
    low: float
    high: float
    strength: float
    rank: int


@dataclass(frozen=True)
class Tally:
    """The votes of one study: scores per question (and "all", every question pooled), best first.

    Attributes:
        study: the page's study id.
        files, raters, votes: how many vote files, distinct raters and (distinct) votes were counted.
        scores: one `MethodScore` per method and question.
        regularised: questions whose Bradley–Terry fit needed the prior (some method never lost or never won).
    """

    study: str
    files: int
    raters: int
    votes: int
    scores: tuple[MethodScore, ...]
    regularised: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "study": self.study,
            "files": self.files,
            "raters": self.raters,
            "votes": self.votes,
            "regularised": list(self.regularised),
            "scores": [score.__dict__ for score in self.scores],
        }


def read_votes(paths: list[Path]) -> tuple[str, list[dict], int]:
    """(study id, distinct votes, distinct raters) from vote files; a vote seen twice (same rater and trial) counts once.

    Raises:
        InputError: a file is missing, not JSON, not a vote file, or from another study than the others.
    """
    if not paths:
        raise InputError("no vote files given", hint="give the JSON files the page's 'Download votes' button saved")
    studies, seen, votes, raters = set(), set(), [], set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            raise InputError("is a folder, not a vote file", path=path, hint="give the JSON files in it: folder/*.json")
        if not path.is_file():
            raise InputError("vote file not found", path=path, hint="check the path and the spelling")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read the vote file ({exc.strerror})", path=path, hint="check its permissions") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"not a JSON vote file ({exc})", path=path, hint="give a file the A/B page saved") from None
        if not isinstance(data, dict) or data.get("format") != VOTES_FORMAT or not isinstance(data.get("trials"), list):
            raise InputError("not a vote file of a vidtoon A/B page", path=path, hint="give a file the page's button saved")
        if not all(isinstance(data.get(name), str) and data[name] for name in ("study", "rater")):
            # without a rater id, two raters' votes on the same trial would count as one vote seen twice
            raise InputError("a vote file without its study and rater ids", path=path, hint="give a file the page's button saved")
        studies.add(str(data.get("study")))
        rater = str(data.get("rater"))
        raters.add(rater)
        for trial in data["trials"]:
            _check_trial(trial, path)
            key = (rater, trial.get("trial"), trial["question"], tuple(sorted(trial["pair"])))
            if key not in seen:
                seen.add(key)
                votes.append(trial)
    if len(studies) > 1:
        raise InputError(
            f"the vote files come from {len(studies)} different pages ({', '.join(sorted(studies))})",
            hint="tally the votes of one page at a time",
        )
    return studies.pop(), votes, len(raters)


def _check_trial(trial: object, path: Path) -> None:
    ok = (
        isinstance(trial, dict)
        and isinstance(trial.get("pair"), list)
        and len(trial["pair"]) == 2
        and all(isinstance(method, str) for method in trial["pair"])
        and trial["pair"][0] != trial["pair"][1]
        and trial.get("choice") in trial["pair"]
        and isinstance(trial.get("question"), str)
        and (trial.get("trial") is None or type(trial["trial"]) is int)
    )
    if not ok:
        raise InputError(f"a trial is malformed: {json.dumps(trial)[:120]}", path=path, hint="give a file the page saved")


def read_key(path: Path, study: str) -> dict[str, str]:
    """Method id -> method name from a page's key.json (which must belong to `study`)."""
    path = Path(path)
    try:
        key = json.loads(path.read_text(encoding="utf-8"))
        names = {method_id: entry["label"] for method_id, entry in key["methods"].items()}
    except FileNotFoundError:
        raise InputError("key file not found", path=path, hint="give the key.json of the page the votes came from") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise InputError("not the key.json of a vidtoon A/B page", path=path, hint="give page/key.json") from None
    if key.get("study") != study:
        raise InputError(
            f"this key is for page {key.get('study')}, the votes are from page {study}",
            path=path,
            hint="give the key.json of the page the votes came from",
        )
    return names


def tally(vote_files: list[str | Path] | str | Path, *, key: str | Path | None = None) -> Tally:
    """Count the votes in `vote_files` (see the module doc; one path alone is one file); `key`: the page's key.json,
    to name the methods.

    Returns:
        The `Tally`: per question and overall, each method's win rate with its Wilson interval and Bradley-Terry score.

    Raises:
        InputError: a vote file or the key is missing, unreadable or from another study.
    """
    vote_files = [vote_files] if isinstance(vote_files, (str, os.PathLike)) else vote_files  # not its characters
    study, votes, raters = read_votes([Path(p) for p in vote_files])
    names = read_key(Path(key), study) if key is not None else {}
    ids = sorted({method for vote in votes for method in vote["pair"]})
    if key is not None and (unknown := [method for method in ids if method not in names]):
        raise InputError(
            f"the votes name method(s) {', '.join(unknown)} that this key does not list",
            path=Path(key),
            hint="give the key.json of the page the votes came from",
        )
    index = {method: i for i, method in enumerate(ids)}
    questions = sorted({vote["question"] for vote in votes})
    scores, regularised = [], []
    for question in [*questions, "all"]:
        wins = np.zeros((len(ids), len(ids)))
        for vote in votes:
            if question in ("all", vote["question"]):
                winner = vote["choice"]
                loser = vote["pair"][1] if vote["pair"][0] == winner else vote["pair"][0]
                wins[index[winner], index[loser]] += 1
        if not wins.any():
            continue
        if strongly_connected(wins[np.ix_(wins.sum(1) + wins.sum(0) > 0, wins.sum(1) + wins.sum(0) > 0)]):
            strengths = bradley_terry(wins)
        else:
            strengths = bradley_terry(wins, prior=PRIOR_WHEN_UNCONNECTED)
            regularised.append(question)
        order = sorted(range(len(ids)), key=lambda i: -strengths[i])
        for i in order:
            rank = 1 + int(sum(strengths[j] > strengths[i] + 1e-9 for j in order))  # equal strengths share a rank
            won, played = int(wins[i].sum()), int(wins[i].sum() + wins[:, i].sum())
            if played == 0:
                continue
            low, high = wilson_interval(won, played)
            scores.append(
                MethodScore(question, names.get(ids[i], ids[i]), won, played, won / played, low, high, float(strengths[i]), rank)
            )
    if regularised:
        log.info("Bradley–Terry needed a prior of %.1f win each way for: %s", PRIOR_WHEN_UNCONNECTED, ", ".join(regularised))
    return Tally(study, len(vote_files), raters, len(votes), tuple(scores), tuple(regularised))
