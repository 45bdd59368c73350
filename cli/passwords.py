"""Initial passwords a student can read off a paper slip and type without mistakes.

Lowercase letters and digits only, without the characters people confuse on
paper or on screen (0/o, 1/l/i, 2/z, 5/s, 8/b, 9/g/q: the digits stay, the
letters go), in groups of four
joined by dashes: ``kmtr-7fqa-hx4p``. Drawn with ``secrets`` (the OS's
cryptographic RNG). 23 symbols: 12 of them carry about 54 bits, plenty for a
first password that LibreChat's login rate limit protects and that students
change after signing in.
"""

from __future__ import annotations

import secrets

# No look-alikes: 0 o (zero, oh), 1 l i (one, ell, eye), 2 z, 5 s, 8 b; 6 and 9 stay, as
# b, g and q (their look-alikes) are out.
# Lowercase only, so there is no I/l, O/0 or case to get wrong either.
ALPHABET = "acdefhjkmnprtuvwxy34679"
GROUP = 4
SEPARATOR = "-"
DEFAULT_LENGTH = 12


def easy_password(length: int = DEFAULT_LENGTH) -> str:
    """`length` random symbols from ALPHABET, in dash-separated groups of four.

    The result is longer than `length` by its dashes; LibreChat counts them, so a
    password made for a minimum length n only needs length=n.
    """
    if length < 1:
        raise ValueError("length must be at least 1")
    chars = [secrets.choice(ALPHABET) for _ in range(length)]
    groups = ["".join(chars[i : i + GROUP]) for i in range(0, length, GROUP)]
    return SEPARATOR.join(groups)
