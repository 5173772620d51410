"""A dependency-free progress bar with rate and ETA.

On a terminal it redraws one line (at most ~10 times a second); in a log file or CI it prints a
line every 10 % so the log stays short.
"""

import sys
import time


def format_seconds(seconds):
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ProgressBar:
    def __init__(self, total, initial=0, stream=None, width=24, label="step"):
        self.total, self.initial = total, initial
        self.stream = stream or sys.stderr
        self.width, self.label = width, label
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.last_draw = 0.0
        self.next_percent = 10

    def line(self, current, values=None):
        done = current - self.initial
        elapsed = time.perf_counter() - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - current) / rate if rate > 0 else float("nan")
        fraction = current / self.total if self.total else 1.0
        filled = int(self.width * fraction)
        bar = "=" * filled + (">" if filled < self.width else "") + " " * max(self.width - filled - 1, 0)
        eta_text = format_seconds(eta) if eta == eta else "--:--"
        text = (
            f"{self.label} {current}/{self.total} [{bar}] {100 * fraction:3.0f}% "
            f"{rate:6.1f} {self.label}s/s ETA {eta_text}"
        )
        if values:
            text += " " + " ".join(f"{k}={v:.4f}" for k, v in values.items())
        return text

    def update(self, current, values=None):
        now = time.perf_counter()
        finished = current >= self.total
        if self.dynamic:
            if finished or now - self.last_draw >= 0.1:
                self.stream.write("\r" + self.line(current, values) + "\033[K")
                self.stream.flush()
                self.last_draw = now
        elif finished or (self.total and 100 * current / self.total >= self.next_percent):
            self.stream.write(self.line(current, values) + "\n")
            self.stream.flush()
            while self.total and self.next_percent <= 100 * current / self.total:
                self.next_percent += 10

    def close(self):
        if self.dynamic:
            self.stream.write("\n")
            self.stream.flush()
