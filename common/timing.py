"""Where a run's wall time goes: seconds per stage (start-up, data, judge, compile, train,
evaluate, figures, outputs), written into metrics.json as `stage_seconds.<stage>`.

Stages nest and are exclusive: seconds spent loading the judge inside `evaluate` count for
`judge`, not twice. The stages of one run add up to its wall time from the process's start to
its metrics.json, less what no stage covers (a few milliseconds of bookkeeping).
"""

import contextlib
import os
import time

PREFIX = "stage_seconds."  # metrics.json's keys of the stages (wall-clock: they differ run to run)


class Stages:
    def __init__(self):
        self.seconds = {}
        self._open = []  # [name, seconds of inner stages, start] of the stages entered and not left

    @contextlib.contextmanager
    def __call__(self, name):
        """`with stages("evaluate"): ...` adds the block's wall time, less its inner stages', to
        `name` (a stage entered again is summed)."""
        start = time.perf_counter()
        self._open.append([name, 0.0, start])
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            _, inner, _ = self._open.pop()
            self.add(name, elapsed - inner)
            if self._open:
                self._open[-1][1] += elapsed

    def add(self, name, seconds):
        self.seconds[name] = self.seconds.get(name, 0.0) + max(0.0, float(seconds))

    def move(self, source, target, seconds):
        """Counts `seconds` of `source` (already added) as `target` instead: the training loop's
        tracing and compilation, measured inside `train`."""
        seconds = min(max(0.0, float(seconds)), self.seconds.get(source, 0.0))
        self.seconds[source] = self.seconds.get(source, 0.0) - seconds
        self.add(target, seconds)

    def numbers(self):
        """{"stage_seconds.<stage>": seconds}, the stages still open counted up to now (so
        metrics.json, written inside the `outputs` stage, holds that stage too)."""
        seconds = dict(self.seconds)
        now, inner_of_next = time.perf_counter(), 0.0
        for name, inner, start in reversed(self._open):  # innermost first
            elapsed = now - start
            seconds[name] = seconds.get(name, 0.0) + max(0.0, elapsed - inner - inner_of_next)
            inner_of_next = elapsed
        return {PREFIX + name: round(value, 3) for name, value in seconds.items()}


def process_seconds():
    """Seconds since this process started (Linux: /proc/self/stat; None elsewhere). A run forked
    from a process that had imported TensorFlow counts from the fork."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, uptime - int(fields[19]) / ticks)  # field 22 of stat: starttime, in clock ticks
