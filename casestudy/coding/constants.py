"""Coding vocabulary that the command line needs before any coding module is loaded (a leaf module)."""

# Cell measures of the case x code matrix (casestudy.coding.matrices re-exports this).
MATRIX_MEASURES = ("counts", "presence", "characters")
# How the case x code matrix combines the chosen coders' codings (casestudy.coding.matrices).
MATRIX_COMBINE = ("union", "intersection", "each")
# How two codes interact in a case, the "cascade" of determinants (casestudy.models re-exports this).
RELATION_KINDS = ("reinforces", "weakens", "causes", "co-occurs")
# What retrieval, matrices and exports filter codings by: spontaneous, after a probe, or not marked
# (the two marks are casestudy.interviews.constants.ELICITATIONS).
ELICITATION_FILTERS = ("spontaneous", "probe", "unmarked")
