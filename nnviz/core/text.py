"""Small text helpers shared by messages everywhere: values quoted at a readable length, batch sizes."""

from __future__ import annotations

FULL_BATCH = 1_000_000  # the largest batch TrainConfig accepts: always at least the whole training set
MAX_QUOTED = 60  # characters of a bad value repeated in a message


def shorten(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis and the full length when longer."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def quoted(value, limit: int = MAX_QUOTED) -> str:
    """``repr(value)`` cut to a readable length (a 10-million-character field must not make a 10 MB message)."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit]) + f"… ({len(value):,} characters)"
    return shorten(repr(value), limit)


def batch_size_text(batch_size: int) -> str:
    """"full" for a full batch (FULL_BATCH), else the number."""
    return "full" if batch_size >= FULL_BATCH else str(batch_size)
