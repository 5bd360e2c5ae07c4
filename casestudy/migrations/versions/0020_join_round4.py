"""Join this round's migration branches into one head.

Sign-offs, ethics and reporting checklists (0016), outcomes, case summaries and integration
(0017) and Delphi rounds with periods on codings and interviews (0018) each grew from 0014; this revision only merges them, so later revisions have one parent again.

Revision ID: 0020_join_round4
Revises: 0016_signoffs_checklists, 0017_outcomes_integration, 0018_delphi_rounds
"""

revision = "0020_join_round4"
down_revision = ("0016_signoffs_checklists", "0017_outcomes_integration", "0018_delphi_rounds")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
