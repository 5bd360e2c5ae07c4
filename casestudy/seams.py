"""The one declared seam: the codebook changing rows that later stages own.

Everywhere else a later stage imports an earlier one directly. This is the single place where
an earlier stage (the codebook) must act on a later stage's rows: merging two codes moves every
coding of the source to the target, and splitting a code moves the chosen codings to the new
code, in the same transaction as the codebook change. The codebook cannot import those stages
(that would be a loop), so the holders are named here and loaded when a merge, split or count
needs them.

Contract of a holder
--------------------
A module listed in :data:`CODE_REFERENCE_HOLDERS` exports ``CODE_REFERENCES``, a
:class:`CodeReferences` with:

``mover(session, source_id, target_id, reference_ids) -> int``
    Moves references from code ``source_id`` to ``target_id`` inside the caller's session (no
    commit). ``reference_ids=None`` (merge) moves all of them and collapses the duplicates that
    result (the same span coded with both codes by the same coder); a list of ids (split) moves
    only those. Returns how many references it moved.
``lister(session, code_id) -> [(reference_id, label), ...]``
    The references a split can offer to choose from.
``counter(session, study_id) -> {code_id: count}``
    How many references each code has; the codebook tree shows the sum over all holders.

Holders today
-------------
* ``casestudy.coding.spans``: the codings ("codings").
* ``casestudy.coding.relations``: the code relations per case ("relations").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

Mover = Callable[[Session, int, int, "Sequence[int] | None"], int]
Lister = Callable[[Session, int], list]
Counter = Callable[[Session, int], dict]


@dataclass(frozen=True)
class CodeReferences:
    """One kind of row that points at codes, and how the codebook moves, lists and counts it."""

    name: str
    mover: Mover
    lister: Lister
    counter: Counter


#: Modules that hold rows pointing at codes; each exports ``CODE_REFERENCES``.
CODE_REFERENCE_HOLDERS: tuple[str, ...] = ("casestudy.coding.spans", "casestudy.coding.relations")


def code_references() -> dict[str, CodeReferences]:
    """{name: CodeReferences} of every holder, in the order listed."""
    found = (importlib.import_module(module).CODE_REFERENCES for module in CODE_REFERENCE_HOLDERS)
    return {refs.name: refs for refs in found}
