"""The one-line progress display of ``fit`` on stderr: tqdm when installed, else plain text."""
from __future__ import annotations

import sys
from typing import Any


class Progress:
    """A line updated in place and erased when training ends (like ``tqdm(leave=False)``).

    The plain-text line pads over the longer text it replaces and is cleared
    with spaces at the end, so no fragment of it is left on the terminal.
    """

    def __init__(self, steps: int, enabled: bool) -> None:
        self.bar: Any = None
        self.enabled = enabled
        self.steps = steps
        self.width = 0  # length of the plain line on screen
        if enabled:
            try:
                from tqdm.auto import tqdm
                self.bar = tqdm(total=steps, leave=False)
            except ImportError:
                pass

    def update(self, step: int, loss: float) -> None:
        """Show that ``step`` finished with ``loss`` (the plain line about 100 times in all)."""
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        elif step % max(1, self.steps // 100) == 0 or step == self.steps:
            self._write(f"step {step}/{self.steps}  loss {loss:.4g}")

    def _write(self, text: str) -> None:
        sys.stderr.write("\r" + text.ljust(self.width))
        sys.stderr.flush()
        self.width = len(text)

    def close(self) -> None:
        """Erase the line."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0
