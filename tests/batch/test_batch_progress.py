"""Progress of a batch as the caller sees it: the workers' events turned into `BatchProgress` calls (`Dispatcher`),
a unit run again after its worker died counted once."""

from __future__ import annotations

import queue

from vidtoon.batch.progress import Dispatcher, QueueProgress
from vidtoon.batch.report import JobResult


class Bars:
    """A `BatchProgress` that keeps each job's bar: the frames counted, how often it was started, whether it ended."""

    def __init__(self):
        self.frames: dict[int, int] = {}
        self.starts: dict[int, int] = {}
        self.finished: list[int] = []

    def batch_started(self, jobs, frames): ...

    def job_started(self, number, frames, name):
        self.starts[number] = self.starts.get(number, 0) + 1

    def job_advanced(self, number, frames):
        self.frames[number] = self.frames.get(number, 0) + frames
        assert self.frames[number] >= 0, "a bar never goes below zero"

    def job_finished(self, result):
        self.finished.append(result.number)


def events_of(run) -> list[tuple]:
    """What a worker's `QueueProgress` puts on its queue while `run(progress_for)` reports."""
    sent: queue.SimpleQueue = queue.SimpleQueue()
    run(lambda number, chunk=None: QueueProgress(sent, number, interval=0.0, chunk=chunk))
    return [sent.get() for _ in range(sent.qsize())]


def test_a_retried_chunk_is_counted_once():
    """Film 1 in three chunks of 24 frames on two workers; chunk 0's worker dies after 10 frames and the chunk runs
    again from its start: the film's bar ends at 72, not 82 (the known gap of the Ray retry)."""

    def run(progress_for):
        lost, other = progress_for(1, chunk=0), progress_for(1, chunk=1)
        lost.start(24, "film [0]")
        other.start(24, "film [1]")
        for _ in range(10):
            lost.advance()
            other.advance()
        for _ in range(14):
            other.advance()
        again, last = progress_for(1, chunk=0), progress_for(1, chunk=2)  # chunk 0 retried on the restarted worker
        for unit in (again, last):
            unit.start(24, "film")
            for _ in range(24):
                unit.advance()

    bars = Bars()
    bars.job_started(1, 72, "film")  # the driver starts a chunked film's bar (`films.open_films`)
    dispatch = Dispatcher(bars)
    for event in events_of(run):
        dispatch(event)
    assert bars.frames == {1: 72} and bars.starts == {1: 1}


def test_a_retried_job_takes_back_its_lost_frames_and_keeps_one_bar():
    """Job 2 reports 30 frames, its worker dies, the retry resumes and reports its 20 finished ones again, then 20 more:
    one bar, 40 frames; a "finished" event is passed on unless the driver reports results itself (Ray)."""

    def run(progress_for):
        first = progress_for(2)
        first.start(40, "b.mp4")
        for _ in range(30):
            first.advance()
        retry = progress_for(2)
        retry.start(40, "b.mp4")
        retry.advance(20)  # the finished segments of the lost attempt
        for _ in range(20):
            retry.advance()
        retry.finish(JobResult(2, "b.mp4", "b.sketch.mp4", "done", 40))

    events = events_of(run)
    for finished, expected in ((True, [2]), (False, [])):
        bars = Bars()
        dispatch = Dispatcher(bars, finished=finished)
        for event in events:
            dispatch(event)
        assert bars.frames == {2: 40} and bars.starts == {2: 1} and bars.finished == expected


def test_a_unit_found_done_by_its_retry_is_settled_at_its_frames():
    """Ray: job 3's worker finished the output and died before returning (its last 25 frames' events lost with it);
    the retry finds the output done and reports nothing. The driver settles the bar at the result's 150 frames; a
    chunk found complete by its retry likewise, and a bar already right is left alone."""
    bars = Bars()
    dispatch = Dispatcher(bars, finished=False)
    dispatch(("start", 3, (150, "chaplin.mp4")))
    dispatch(("advance", 3, 125))
    dispatch.settle(3, 150)
    assert bars.frames == {3: 150}
    dispatch.settle(3, 150)
    bars.job_started(4, 48, "film")
    dispatch(("chunk_start", 4, 1))
    dispatch(("chunk_advance", 4, (1, 10)))
    dispatch.settle(4, 24, chunk=1)
    dispatch.settle(4, 24, chunk=0)  # chunk 0: skipped by its retry, no event at all
    assert bars.frames == {3: 150, 4: 48} and bars.starts == {3: 1, 4: 1}
