"""Panel vocabulary that the command line needs before any table or stage module is loaded.

A leaf module (no imports); ``casestudy.models`` re-exports these names with the panel tables.
"""

ITEM_KINDS = ("likert_per_case", "free_list", "ordered_list", "additional_list", "open_comment")
EXPERTISE_FIELDS = ("treating the target population", "managing programmes", "theoretical background")
INSTRUMENT_FORMATS = ("yaml", "csv")
# Delphi stopping rules (panel.delphi): IQR at most a limit, few answers changed, or either.
DELPHI_RULES = ("consensus", "stability", "either")
