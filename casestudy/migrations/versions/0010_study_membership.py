"""Several studies per database: per-study membership and archived studies.

Adds ``study.archived_at`` and the ``study_member`` table (study, account, role owner / coder /
viewer). An existing database upgrades in place: every existing account becomes a member of
every existing study, administrators as owners, coders and viewers with their global role, so
nobody loses access to the study they worked on.

Revision ID: 0010_study_membership
Revises: 0009_join_stages
"""

import datetime as dt

from alembic import op
import sqlalchemy as sa

revision = "0010_study_membership"
down_revision = "0009_join_stages"
branch_labels = None
depends_on = None

# The global role an account had before memberships existed -> its role in each existing study.
MEMBERSHIP_FROM_GLOBAL_ROLE = {"admin": "owner", "coder": "coder", "viewer": "viewer"}


def upgrade() -> None:
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.add_column(sa.Column("archived_at", sa.DateTime(), nullable=True))

    member = op.create_table(
        "study_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_study_member_study_id_study"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_study_member_user_id_user_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study_member")),
        sa.UniqueConstraint("study_id", "user_id", name=op.f("uq_study_member_study_id")),
    )
    with op.batch_alter_table("study_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_study_member_study_id"), ["study_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_study_member_user_id"), ["user_id"], unique=False)

    connection = op.get_bind()
    study_ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM study ORDER BY id"))]
    accounts = list(connection.execute(sa.text("SELECT id, role FROM user_account ORDER BY id")))
    created = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # naive UTC, as every timestamp
    rows = [
        {"study_id": study_id, "user_id": user_id, "role": MEMBERSHIP_FROM_GLOBAL_ROLE.get(role, "viewer"),
         "created_at": created, "version": 1}
        for study_id in study_ids
        for user_id, role in accounts
    ]
    if rows:
        op.bulk_insert(member, rows)


def downgrade() -> None:
    with op.batch_alter_table("study_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_study_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_study_member_study_id"))
    op.drop_table("study_member")
    with op.batch_alter_table("study", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
