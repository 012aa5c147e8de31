"""Where the login page may send the browser next: `safe_next`, a local path or `/`.

A `next` parameter reaches the login page from a link anyone can write, and the page's script
goes there once the password is accepted, so a value a browser would read as another host is an
open redirect. Browsers treat `\\` like `/` and drop tabs and newlines inside a URL, and a
server or proxy may percent-decode a path once more, so `/\\evil`, `/%5Cevil`, `/\\t/evil` and
`/%2F%2Fevil` all can become `//evil` (another host). Only a plain path is accepted.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

HOME = "/"
_DECODE_ROUNDS = 4
"""How often a value is percent-decoded to see what a later decoder could make of it."""


def _is_local_path(value: str, decoded: bool) -> bool:
    if not value.startswith("/") or value.startswith("//"):
        return False
    if "\\" in value:
        return False
    # Control characters (tab, newline: browsers drop them inside URLs) and any Unicode separator
    # or format character (invisible, or read differently by different parsers); a decoded `%20`
    # in a query is only a space.
    if any(unicodedata.category(c)[0] in "CZ" and not (decoded and c == " ") for c in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this server (one leading `/`), else `/`.

    The value as given, and each of its percent-decoded forms, must be such a path: no
    backslash, no scheme or host, no `//` at the start, no control or whitespace character.
    """
    if not target:
        return HOME
    seen = target
    for round_ in range(_DECODE_ROUNDS):
        if not _is_local_path(seen, decoded=round_ > 0):
            return HOME
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded
    return HOME  # still changing after several decodings: no honest link looks like that
