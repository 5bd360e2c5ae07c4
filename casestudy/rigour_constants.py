"""Import-free vocabulary of the study's rigour records (sign-offs, ethics status).

The models (:mod:`casestudy.models.rigour`) and the CLI's argparse choices read it before any
library module loads, so it imports nothing.
"""

# What a study can require a second researcher to sign off: an interview's codings, a
# reconstruction version before the member check, a masked text before its release.
SIGNOFF_KINDS = ("codings", "reconstruction", "masked_text")
# A study's ethics status: approved by a body, not required (with the reason), or still pending.
ETHICS_STATES = ("approved", "not_required", "pending")
