"""What an export wrote: its format, folder, files and sample count (printed by the CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ExportSummary:
    """The outcome of one export.

    ``files``: the files written, relative to ``out`` (sorted); ``samples``: the cue groups
    (WebDataset) or the rows of every config and split (Hugging Face) written.
    """

    format: str
    out: Path
    files: tuple[str, ...]
    samples: int

    def lines(self, shown: int = 10) -> list[str]:
        """The summary as lines for a terminal: what was written where (the first
        ``shown`` files by name; media folders can hold thousands)."""
        noun = "sample" if self.samples == 1 else "samples"
        files = "file" if len(self.files) == 1 else "files"
        out = [
            f"{self.format} export: {self.samples} {noun} in {len(self.files)} {files}",
            f"  folder: {self.out}",
            *(f"  {name}" for name in self.files[:shown]),
        ]
        if len(self.files) > shown:
            out.append(f"  ... and {len(self.files) - shown} more")
        return out


__all__ = ["ExportSummary"]
