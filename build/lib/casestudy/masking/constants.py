"""Masking vocabulary that the command line needs before the masking engine is loaded (a leaf module).

``casestudy.masking.engine`` re-exports these names.
"""

from __future__ import annotations

# Kinds of register entries, and the matching options with their defaults.
KINDS = ("organisation", "unit", "person", "place", "programme", "other")
OPTION_DEFAULTS: dict[str, bool] = {
    "case_insensitive": True,  # Zorggroep = ZORGGROEP = zorggroep
    "diacritics_insensitive": True,  # Zoë = Zoe
    "possessive": True,  # Verhoef's, Verhoef’s, Verhoefs, Dijkhuis'
    "compounds": True,  # Dijkhuis-team
    "endings": True,  # Amsterdamse, Utrechter, Groninger (places and organisations)
    "multiword": True,  # words of a multi-word term across line breaks and repeated spaces
    "name_forms": True,  # persons: initial + last, last alone, particles, first name alone
    "titles": True,  # persons: dr. / mevrouw / meneer / mr. ... before a name form
    "near_miss": True,  # report one-edit-away spellings as candidates
}

# Kinds of linkage findings (a text of one case that points at another case), and the ones a
# researcher may accept with a reason. Another case's internal label and its register terms are
# identities: they can only be masked.
LINKAGE_KINDS = ("public label", "internal label", "register term", "shared name")
ACCEPTABLE_LINKAGE_KINDS = ("public label", "shared name")
