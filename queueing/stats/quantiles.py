"""Exact quantiles (linear interpolation between closest ranks) over sorted runs of durations."""
from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from itertools import accumulate, chain

# Exact quantiles of many stored days: below this many values sort them all, above it select.
SORT_BELOW = 8192
SELECT_RUN_LENGTH = 32  # values per run, on average, worth bisecting
SAMPLE_SIZE = 1024
SAMPLE_MARGIN = 24

EMPTY_STATS = {"mean": None, "median": None, "p90": None}


def quantile(ordered, numerator: int, denominator: int) -> float:
    """The (numerator/denominator)-quantile of sorted values by linear interpolation between closest ranks."""
    index, remainder = divmod((len(ordered) - 1) * numerator, denominator)
    low = ordered[index]
    if remainder == 0:
        return low
    return low + (ordered[index + 1] - low) * remainder / denominator


def _ranked(runs: list[array], count: int, ranks: list[int]) -> list[float]:
    """The values at some 0-based ranks of the union of sorted runs, without sorting all of it."""
    if len(runs) == 1:
        return [runs[0][rank] for rank in ranks]
    if count <= SORT_BELOW or count < SELECT_RUN_LENGTH * len(runs):
        # few values, or many short runs: merging them all is cheaper than bisecting each run
        ordered = sorted(chain.from_iterable(runs))
        return [ordered[rank] for rank in ranks]
    # A sample of about SAMPLE_SIZE values, each standing for its share of its run, estimates where
    # a rank lies; exact counts by bisection then prove that a bracket [low, high] of sample values
    # holds it, and only that slice of each run is sorted.
    step = max(1, count // SAMPLE_SIZE)
    sample = []
    for run in runs:
        picks = -(-len(run) // step)
        share = len(run) / picks
        sample.extend((run[int((pick + 0.5) * share)], share) for pick in range(picks))
    sample.sort()
    positions = list(accumulate(share for _, share in sample))
    found: dict[int, float] = {}
    for rank in ranks:
        if rank in found:
            continue
        guess = bisect_right(positions, rank)
        for margin in (SAMPLE_MARGIN, 8 * SAMPLE_MARGIN):
            low, high = guess - margin, guess + margin
            starts = [bisect_left(run, sample[low][0]) for run in runs] if low > 0 else [0] * len(runs)
            ends = [bisect_right(run, sample[high][0]) for run in runs] if high < len(sample) else list(map(len, runs))
            below, upto = sum(starts), sum(ends)
            if below <= rank < upto:
                window = sorted(chain.from_iterable(run[start:end] for run, start, end in zip(runs, starts, ends)))
                # the next ranks (the other side of an interpolation) are usually in the same window
                found.update((other, window[other - below]) for other in ranks if below <= other < upto)
                break
        else:  # the sample misled us twice: sort everything rather than guess
            ordered = sorted(chain.from_iterable(runs))
            return [ordered[rank] for rank in ranks]
    return [found[rank] for rank in ranks]


def _quantiles_of_runs(runs: list[array], count: int, fractions: list[tuple[int, int]]) -> list[float]:
    """Quantiles (numerator, denominator) of sorted runs, interpolated as `quantile` does."""
    places = [(*divmod((count - 1) * numerator, denominator), denominator) for numerator, denominator in fractions]
    needed = sorted({rank for index, remainder, _ in places
                     for rank in ((index, index + 1) if remainder else (index,))})
    found = dict(zip(needed, _ranked(runs, count, needed)))
    return [found[index] + (found[index + 1] - found[index]) * remainder / denominator if remainder else found[index]
            for index, remainder, denominator in places]


def describe_runs(runs: list[array]) -> dict:
    """Mean, median and p90 of sorted runs of durations in seconds, rounded to 0.1 s; None when empty."""
    count = sum(map(len, runs))
    if not count:
        return dict(EMPTY_STATS)
    # fsum is exact, so the mean is the same whatever order the days were read in.
    median, p90 = _quantiles_of_runs(runs, count, [(1, 2), (9, 10)])
    return {"mean": round(math.fsum(chain.from_iterable(runs)) / count, 1), "median": round(median, 1),
            "p90": round(p90, 1)}


def describe(values) -> dict:
    """Mean, median and p90 of some durations in seconds, rounded to 0.1 s; None when there are none."""
    return describe_runs([array("d", sorted(values))])
