"""Text for any terminal: gradienti's symbols spelled in ASCII where a stream cannot show them.

The explanations and the command write ``∂y/∂x``, ``x³``, ``5·x``, ``Σ``. A stream whose
encoding has no such symbol (a Windows console or file in cp1252, ``PYTHONIOENCODING=ascii``)
would raise ``UnicodeEncodeError`` on them; there the whole text is spelled in ASCII instead:
``dy/dx``, ``x^3``, ``5*x``, ``sum``. Text the stream can encode is written as it is, so UTF-8
output does not change.

The whole text is spelled, not only the characters the stream lacks: cp1252 has ``²`` and ``·``
but not ``∂`` or ``⁻``, and a formula half in each spelling (``x²·y^-1``) reads worse than one
in ASCII throughout.
"""

from __future__ import annotations

import unicodedata

# The symbols gradienti's texts use (explain's rules in ops/*.py, the explanation, the command),
# and a few common ones a user's names or expressions may bring. Superscripts, subscripts,
# Greek letters and accents are spelled by rule (spell_ascii).
SPELLINGS = {
    "∂": "d",  # ∂y/∂x -> dy/dx; alone ("local ∂") it is the word, see spell_ascii
    "·": "*",
    "×": "*",
    "⊙": "*",  # the elementwise product
    "÷": "/",
    "⁄": "/",  # the fraction slash of ½ -> 1/2
    "−": "-",  # the minus sign
    "–": "-",
    "—": "-",
    "\u2011": "-",  # a non-breaking hyphen
    "±": "+/-",
    "∓": "-/+",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "≈": "~",
    "→": "->",
    "←": "<-",
    "⇒": "=>",
    "‖": "||",  # a norm: ‖x‖ -> ||x||
    "…": "...",
    "∞": "inf",
    "√": "sqrt",
    "∑": "sum",
    "∏": "prod",
    "Σ": "sum",  # Σ_i in a formula is a sum, not the letter
    "Π": "prod",
    "µ": "u",  # micro: µs -> us
    "\u00a0": " ",
    "\ufffd": "?",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
}
# Combining marks that name a quantity: x with a dot above is the tangent of x in forward mode.
MARKS = {"\u0307": "_dot", "\u0302": "_hat", "\u0304": "_bar", "\u0303": "_tilde"}
# After ∂, these characters mean it stands alone: the word, not the d of d/dx.
_WORD_AFTER = frozenset(" \t\n,;:.)")


def spell_ascii(text: str) -> str:
    """``text`` in ASCII: ``∂y/∂x`` -> ``dy/dx``, ``x³`` -> ``x^3``, ``x⁻¹`` -> ``x^-1``,
    ``mul₃`` -> ``mul_3``, ``σ`` -> ``sigma``, ``ẋ`` -> ``x_dot``; a character with no spelling
    as Python's backslash escape (``\\u4e2d``)."""
    if text.isascii():
        return text
    # Compatibility decomposition: ² is 2 marked <super>, ½ is 1⁄2, ẋ is x and a combining dot.
    pieces: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isascii():
            pieces.append(char)
            index += 1
            continue
        kind = _script_kind(char)
        if kind:  # a run of superscripts (x⁻¹) or subscripts (mul₁₂) is one exponent or index
            end = index
            while end < len(text) and _script_kind(text[end]) == kind:
                end += 1
            run = "".join(_script_base(char) for char in text[index:end])
            pieces.append(_exponent(run) if kind == "<super>" else "_" + run)
            index = end
            continue
        if char == "∂" and (index + 1 == len(text) or text[index + 1] in _WORD_AFTER):
            pieces.append("derivative")
        else:
            pieces.append(_spell_char(char))
        index += 1
    return "".join(pieces)


def _script_kind(char: str) -> str:
    """``<super>`` or ``<sub>`` for a superscript or subscript of an ASCII character, else ''."""
    tag = unicodedata.decomposition(char).partition(" ")[0]
    if tag in ("<super>", "<sub>") and _script_base(char).isascii():
        return tag
    return ""


def _script_base(char: str) -> str:
    """The character a superscript or subscript raises or lowers: ³ -> 3, ⁻ (a raised minus
    sign, U+2212) -> -."""
    base = unicodedata.normalize("NFKD", char)
    return SPELLINGS.get(base, base)


def _exponent(run: str) -> str:
    """``^3``, ``^-1``, ``^(n)``; several exponents in a row each get theirs (A⁺ᵀ: ``A^+^T``)."""
    tokens, index = [], 0
    while index < len(run):
        end = index + 1
        signed = run[index] in "+-" and end < len(run) and run[end].isdigit()
        if signed or run[index].isdigit():
            while end < len(run) and run[end].isdigit():
                end += 1
        elif run[index] == "(" and ")" in run[index:]:
            end = run.index(")", index) + 1
        tokens.append("^" + run[index:end])
        index = end
    return "".join(tokens)


def _spell_char(char: str) -> str:
    if char in SPELLINGS:
        return SPELLINGS[char]
    if char in MARKS:
        return MARKS[char]
    name = unicodedata.name(char, "")
    if name.startswith("GREEK ") and " LETTER " in name:
        # GREEK SMALL LETTER SIGMA -> sigma, GREEK CAPITAL LETTER GAMMA -> Gamma
        letter = name.partition(" LETTER ")[2].partition(" WITH ")[0].removeprefix("FINAL ")
        letter = letter.lower().replace("lamda", "lambda")  # Unicode's spelling of lambda
        return letter.capitalize() if " CAPITAL " in name else letter
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed != char:  # é -> e, ẋ -> x_dot, ﬁ -> fi
        spelled = "".join(
            MARKS.get(part, "") if unicodedata.combining(part) else _spell_char(part)
            for part in decomposed
        )
        if spelled:
            return spelled
    return char.encode("ascii", "backslashreplace").decode("ascii")


def stream_encoding(stream) -> str | None:
    """The encoding a text stream writes with; None for one that takes any str (StringIO)."""
    return getattr(stream, "encoding", None) if stream is not None else None


def can_encode(text: str, stream) -> bool:
    """Whether ``stream`` can write ``text`` as it is."""
    if text.isascii():
        return True
    encoding = stream_encoding(stream)
    if not encoding:
        return True
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    except (LookupError, TypeError):
        # an encoding Python does not know, or no name at all (a stand-in stream's may be
        # bytes or a mock): only ASCII is safe
        return False
    return True


def fit_to_stream(text: str, stream) -> str:
    """``text`` as it is if ``stream`` can encode it, else spelled in ASCII."""
    return text if can_encode(text, stream) else spell_ascii(text)


class FittingWriter:
    """A text stream that writes through ``fit_to_stream``: the command's stdout and stderr.

    Everything else (``encoding``, ``fileno``, ``flush``, ``buffer``) is the stream's own.
    """

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(fit_to_stream(text, self._stream))

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)
