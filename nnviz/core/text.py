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


def _shown(value) -> list[str]:
    """How a settings message may have printed ``value``: repr, str, or a shape joined by commas."""
    shown = []
    for show in (repr, str, lambda v: ",".join(map(str, v))):
        try:
            shown.append(show(value))
        except (TypeError, ValueError):  # not a sequence; an integer too long for str()
            pass
    return shown


def short_setting_message(message: str, values: dict, limit: int = MAX_QUOTED, shown: dict | None = None) -> str:
    """A settings error "field=VALUE: allowed ..." with VALUE cut to a readable length.

    ``values`` maps field names to the values checked; ``shown`` optionally maps a field to the
    text to show instead of its value. A message of another form is cut as a whole.
    """
    field = message.split("=", 1)[0]
    if field in values:
        value = values[field]
        for text in _shown(value):
            prefix = f"{field}={text}"
            if message.startswith(prefix):
                if shown and field in shown:
                    short = shorten(shown[field], limit)
                else:
                    short = quoted(value, limit) if text == repr(value) else shorten(text, limit)
                return f"{field}={short}{shorten(message[len(prefix):], 3 * limit)}"
    return shorten(message, 4 * limit)
