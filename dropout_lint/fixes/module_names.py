"""The attribute name of a registered dropout module: the one a maintainer would have written.

A name says what is dropped, in the words the class family already uses: ``head_drop``
beside ``pos_drop``, ``drop_path``-style ``drop_attn`` beside ``drop_proj``, ``attn_dropout``
beside ``resid_dropout``. What is dropped comes from the rate (``attention_dropout`` ->
``attention``, ``hidden_dropout_prob`` -> ``hidden``) or, for a rate that says nothing
(``drop_rate``, ``0.1``), from the method (``forward_head`` -> ``head``). A name that is
taken (``self.dropout`` is often the rate itself) is not varied into ``dropout_layer`` or
``dropout_2``, which read as the float's twin: there is no clear name, and the caller
falls back to another fix.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Collection, Optional

# Words of a rate's name that say "how much", not "what".
_RATE_WORDS = frozenset({"p", "prob", "probability", "rate", "ratio", "pdrop", "drop", "dropout"})
# Words that say a name holds a rate (or a dropout setting): any other attribute name, such
# as `config` or `dim`, is not one, and is never moved into `p=`.
_RATE_HINTS = ("drop", "rate", "prob", "ratio")


def says_rate(attribute: str) -> bool:
    """Whether an attribute's name says it holds a rate: ``drop_rate``, ``p``, ``attn_pdrop``."""
    words = attribute.lower().split("_")
    return "p" in words or any(hint in word for word in words for hint in _RATE_HINTS)


def module_name(
    word: str,
    rate_attribute: Optional[str],
    method_name: str,
    family_modules: Collection[str],
    taken: Collection[str],
) -> Optional[str]:
    """A free name for a module of ``word`` (``dropout``, ``dropout2d``), or None.

    ``family_modules`` are the dropout modules the class and its relatives register already,
    whose words (``drop``/``dropout``) and order (``head_drop``/``drop_head``) are followed.
    """
    if word == "dropout":
        word = _family_word(family_modules) or _word_of(rate_attribute) or word
    subject = _subject(rate_attribute)
    if subject:
        candidates = [_joined(subject, word, family_modules)]
    else:
        method_subject = method_name[len("forward_") :] if method_name.startswith("forward_") else ""
        candidates = [_joined(method_subject, word, family_modules)] if method_subject.isidentifier() else []
        candidates.append(word)
    return next((name for name in candidates if name not in taken), None)


def _subject(rate_attribute: Optional[str]) -> str:
    """What a rate named after dropping says is dropped: ``attention_dropout`` -> ``attention``."""
    if rate_attribute is None or "drop" not in rate_attribute.lower():
        return ""
    return "_".join(word for word in rate_attribute.split("_") if word.lower() not in _RATE_WORDS)


def _word_of(rate_attribute: Optional[str]) -> Optional[str]:
    words = rate_attribute.lower().split("_") if rate_attribute else []
    return "drop" if "drop" in words or "pdrop" in words else None


def _family_word(family_modules: Collection[str]) -> Optional[str]:
    """``drop`` or ``dropout``, whichever the family's module names use more."""
    counts = Counter(
        word for name in family_modules for word in name.split("_") if word in ("drop", "dropout")
    )
    return counts.most_common(1)[0][0] if counts else None


def _joined(subject: str, word: str, family_modules: Collection[str]) -> str:
    """``head_drop``, or ``drop_head`` where the family puts its word first."""
    first = sum(1 for name in family_modules if re.match(r"(?:drop|dropout)_\w", name))
    last = sum(1 for name in family_modules if re.search(r"\w_(?:drop|dropout)$", name))
    return f"{word}_{subject}" if first > last else f"{subject}_{word}"
