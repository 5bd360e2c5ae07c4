"""Join the stages' migration branches into one head.

Each stage of the chain grew its own branch from the foundation (interviews, codebook, coding,
masking, reports, member check, panel); this revision only merges them, so later revisions have
one parent again.

Revision ID: 0009_join_stages
Revises: 0004_masking, 0005_reports, 0006_membercheck, 0007_coding, 0008_panel
"""

revision = "0009_join_stages"
down_revision = ('0004_masking', '0005_reports', '0006_membercheck', '0007_coding', '0008_panel')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
