"""Join this round's migration branches into one head.

Study membership (0010), browser sessions and settings (0011), the coding workbench (0012) and
periods, instruments, audits and focus groups (0013) each grew from 0009; this revision only
merges them, so later revisions have one parent again.

Revision ID: 0014_join_round3
Revises: 0010_study_membership, 0011_browser_sessions, 0012_coding_workbench, 0013_periods_audits
"""

revision = "0014_join_round3"
down_revision = ("0010_study_membership", "0011_browser_sessions", "0012_coding_workbench", "0013_periods_audits")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
