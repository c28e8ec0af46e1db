"""C identifiers that never come raw from a model file."""

from __future__ import annotations

import re

_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while _Bool _Complex _Imaginary".split()
)


def c_identifier(raw: str, max_len: int = 32) -> str:
    """Lower-case [a-z0-9_] identifier derived from `raw`; starts with a letter, not a keyword."""
    ident = re.sub(r"[^0-9a-zA-Z]+", "_", raw).strip("_").lower()[:max_len].rstrip("_")
    if not ident or not ident[0].isalpha():
        ident = "m_" + ident if ident else "model"
    if ident in _C_KEYWORDS:
        ident += "_"
    return ident


def comment_text(raw: str, max_len: int = 60) -> str:
    """Text safe inside a C block comment: printable ASCII, no comment terminators."""
    text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in raw)[:max_len]
    return text.replace("*/", "*_/").replace("/*", "/_*").replace("\\", "/")
