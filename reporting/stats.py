"""95 % intervals and the four verdicts they decide.

  * a mean over seeds: Student's t interval (n - 1 degrees of freedom); one seed has no interval;
  * a rate pooled over the samples of every seed (e.g. 2,500 points per run x 10 seeds): the wider
    of the seeds' t interval and the Clopper-Pearson interval of the pooled count, so neither the
    spread between seeds nor the finite number of samples is ignored (a rate of 0 on every seed
    still has an upper bound);
  * a difference of two means: Welch's interval and two-sided p-value.

A claim that X is absent ("no sample lands on the removed mixture") is decided by the upper bound
against its criterion, and needs its positive control: the same measurement on a run where X is
present must find X above the criterion (its lower bound), or the measurement could not have
found X and the verdict is inconclusive. A claim that X is present is decided by the lower bound;
a comparison by the interval of the difference. An interval that spans its criterion is an
honest "inconclusive".
"""

import dataclasses
import math

import numpy as np
from scipy import stats as scipy_stats

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable here"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_TESTABLE)
LEVEL = 0.95


@dataclasses.dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float
    n: int  # seeds
    method: str  # "t over seeds", "t over seeds and Clopper-Pearson", "Welch"
    p_value: float | None = None

    def spans(self, value):
        return self.low <= value <= self.high

    def text(self, digits=3):
        if math.isnan(self.estimate):
            return "—"
        if math.isnan(self.low):
            return f"{self.estimate:.{digits}f} (1 seed, no interval)"
        p = f", p = {self.p_value:.3g}" if self.p_value is not None else ""
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}] (n = {self.n}{p})"


def _clean(values):
    return [float(v) for v in values if v is not None and not math.isnan(float(v))]


def mean_interval(values, bounds=(-math.inf, math.inf)):
    """t interval of the mean over seeds, clipped to `bounds` (a rate cannot leave [0, 1])."""
    x = _clean(values)
    if not x:
        return Interval(float("nan"), float("nan"), float("nan"), 0, "t over seeds")
    mean = float(np.mean(x))
    if len(x) < 2:
        return Interval(mean, float("nan"), float("nan"), 1, "t over seeds")
    half = float(scipy_stats.t.ppf(0.5 + LEVEL / 2, len(x) - 1) * np.std(x, ddof=1) / math.sqrt(len(x)))
    return Interval(mean, max(mean - half, bounds[0]), min(mean + half, bounds[1]), len(x), "t over seeds")


def clopper_pearson(successes, trials):
    """The exact two-sided 95 % binomial interval of successes / trials."""
    alpha = 1 - LEVEL
    low = 0.0 if successes == 0 else float(scipy_stats.beta.ppf(alpha / 2, successes, trials - successes + 1))
    high = (
        1.0
        if successes == trials
        else float(scipy_stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    )
    return low, high


def rate_interval(rates, samples_per_seed):
    """A rate per seed, each over `samples_per_seed` samples: the mean with the wider of the t
    interval over seeds and the Clopper-Pearson interval of the pooled count."""
    x = _clean(rates)
    seeds = mean_interval(x, (0.0, 1.0))
    if not x:
        return seeds
    trials = int(samples_per_seed) * len(x)
    successes = int(round(sum(r * samples_per_seed for r in x)))
    low, high = clopper_pearson(successes, trials)
    if math.isnan(seeds.low):
        return Interval(seeds.estimate, low, high, len(x), "Clopper-Pearson (1 seed)")
    return Interval(
        seeds.estimate, min(seeds.low, low), max(seeds.high, high), len(x), "t over seeds and Clopper-Pearson"
    )


def difference_interval(a, b):
    """mean(a) - mean(b) with Welch's 95 % interval and two-sided p-value."""
    x, y = _clean(a), _clean(b)
    if len(x) < 2 or len(y) < 2:
        estimate = float(np.mean(x) - np.mean(y)) if x and y else float("nan")
        return Interval(estimate, float("nan"), float("nan"), min(len(x), len(y)), "Welch")
    vx, vy = np.var(x, ddof=1) / len(x), np.var(y, ddof=1) / len(y)
    estimate = float(np.mean(x) - np.mean(y))
    se = math.sqrt(vx + vy)
    if se == 0:
        return Interval(estimate, estimate, estimate, min(len(x), len(y)), "Welch", 0.0 if estimate else 1.0)
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = float(scipy_stats.t.ppf(0.5 + LEVEL / 2, df) * se)
    p = float(2 * scipy_stats.t.sf(abs(estimate) / se, df))
    return Interval(estimate, estimate - half, estimate + half, min(len(x), len(y)), "Welch", p)


# ------------------------------------------------------------------------------- verdicts
def absent(interval, criterion, control=None):
    """'No X': X's rate at most `criterion`. Reproduced when the upper bound is below it and the
    control (X present) lies above it; not reproduced when the lower bound is above it."""
    if math.isnan(interval.estimate):
        return NOT_TESTABLE
    if not math.isnan(interval.low) and interval.low > criterion:
        return NOT_REPRODUCED
    if math.isnan(interval.high) or interval.high >= criterion:
        return INCONCLUSIVE
    if control is None or math.isnan(control.low) or control.low <= criterion:
        return INCONCLUSIVE  # the measurement has not been shown able to find X
    return REPRODUCED


def present(interval, criterion):
    """'X': X's measure above `criterion`. Decided by the lower (reproduced) and upper (not) bound."""
    if math.isnan(interval.estimate):
        return NOT_TESTABLE
    if not math.isnan(interval.low) and interval.low > criterion:
        return REPRODUCED
    if not math.isnan(interval.high) and interval.high < criterion:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def below(interval, criterion):
    """'X is small': the measure below `criterion` (the mirror of present)."""
    if math.isnan(interval.estimate):
        return NOT_TESTABLE
    if not math.isnan(interval.high) and interval.high < criterion:
        return REPRODUCED
    if not math.isnan(interval.low) and interval.low > criterion:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def all_of(*verdicts):
    """A claim of several parts: reproduced when every part is, not reproduced when any part is
    not, inconclusive otherwise."""
    if NOT_TESTABLE in verdicts:
        return NOT_TESTABLE
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    if all(v == REPRODUCED for v in verdicts):
        return REPRODUCED
    return INCONCLUSIVE
