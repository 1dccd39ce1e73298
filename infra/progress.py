"""How a long command shows that it is alive: one reporter for every command.

Steps go on lines of their own (`say`); while a known amount of work goes by, a one-line
bar (`start(total, unit)`, then `update(done)`, or `advance(amount)` from any thread, and
`close`). Only on a terminal: in cron and in logs nothing is drawn, and the command's own
summary line says what it did, in numbers. Domain functions take a `Progress` and report
to it; `Progress.silent()` when nobody watches.
"""

import io
import os
import sys
import threading
from typing import Any

BAR_WIDTH = 25


class Progress:
    def __init__(self, stream: Any = None, *, enabled: bool | None = None) -> None:
        # A management command's OutputWrapper adds a newline to every write: use its stream.
        self.stream = getattr(stream, "_out", stream) or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.lock = threading.Lock()
        self.start(1)

    @classmethod
    def silent(cls) -> "Progress":
        return cls(io.StringIO(), enabled=False)

    @classmethod
    def of_file(cls, path: Any, stream: Any = None) -> "Progress":
        """A bar over the bytes of a file being read."""
        progress = cls(stream)
        progress.start(os.path.getsize(path))
        return progress

    def start(self, total: int, unit: str = "") -> None:
        self.total, self.unit, self.done, self.last = max(total, 1), unit, 0, -1

    def update(self, done: int) -> None:
        percent = min(100, done * 100 // self.total)
        if self.enabled and percent != self.last:
            self.last = percent
            of = f" of {self.total:,} {self.unit}" if self.unit else ""
            self.stream.write(
                f"\r[{'#' * (percent * BAR_WIDTH // 100):<{BAR_WIDTH}}] {percent:3d}%{of}"
            )
            self.stream.flush()

    def advance(self, amount: int) -> None:
        with self.lock:
            self.done += amount
            self.update(self.done)

    def close(self) -> None:
        if self.enabled and self.last >= 0:
            self.stream.write("\n")
            self.stream.flush()
        self.last = -1

    def say(self, text: str) -> None:
        """A step of a long piece of work, on its own line."""
        if self.enabled:
            self.close()
            self.stream.write(f"… {text}\n")
            self.stream.flush()
