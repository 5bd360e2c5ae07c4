"""interview guide, elicitation of codings, interview sessions, documents that are not interviews

Adds the versioned interview guide (``interview_guide``); on ``interview`` the source kind
(interview or document, a document has no respondent), the document type and period, the guide
version followed, the start of the probe stage and the session status with the observer's note;
on ``coding`` how the passage came up (spontaneous or after a probe) and whether that was set
by hand.

Making ``interview.respondent_id`` nullable: PostgreSQL alters the column. SQLite cannot alter
a column. Rebuilding the table (Alembic's batch mode) would copy every transcript; SQLite's
documented procedure for removing a NOT NULL constraint (https://sqlite.org/lang_altertable.html,
"making other kinds of table schema changes", the writable_schema variant) rewrites only the
stored CREATE statement, which leaves the rows untouched. (A rebuild under foreign-key
enforcement would also have cascade-deleted every coding, turn and sentence; since then
``migrate.migration_connection`` runs every SQLite migration with enforcement off.)

Revision ID: 0015_interview_guide
Revises: 0014_join_round3
"""

from alembic import op
import sqlalchemy as sa

from casestudy.migrate import delete_cascading


revision = "0015_interview_guide"
down_revision = "0014_join_round3"
branch_labels = None
depends_on = None

_NOT_NULL = "respondent_id INTEGER NOT NULL,"
_NULLABLE = "respondent_id INTEGER,"
#: The new columns of ``interview`` that point at other tables (nullable, ON DELETE SET NULL).
_REFERENCES = (("guide_id", "interview_guide"),)  # a document's period: revision 0018 adds interview.period_id


def _reference_sql(column: str, table: str) -> str:
    return f"CONSTRAINT fk_interview_{column}_{table} FOREIGN KEY({column}) REFERENCES {table} (id) ON DELETE SET NULL"


def _rewrite_sqlite_interview(upgrade: bool) -> None:
    """Rewrite the stored CREATE TABLE of ``interview`` (SQLite): the respondent becomes optional
    and the new reference columns get their foreign keys (or back), bumping the schema version.

    Safe by SQLite's rules: no stored row can violate the result (the new columns are all NULL;
    on the way down the documents were deleted first)."""
    connection = op.get_bind()
    sql = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'interview'").scalar()
    references = "".join(f", {_reference_sql(column, table)}" for column, table in _REFERENCES)
    old, new = (_NOT_NULL, _NULLABLE) if upgrade else (_NULLABLE, _NOT_NULL)
    if old not in sql or not sql.rstrip().endswith(")") or (not upgrade and references not in sql):
        raise RuntimeError("unexpected schema of table interview; was it changed by hand?")
    sql = sql.replace(old, new, 1)
    sql = sql.rstrip()[:-1].rstrip() + references + "\n)" if upgrade else sql.replace(references, "", 1)
    schema_version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'interview'", (sql,))
        connection.exec_driver_sql(f"PRAGMA schema_version = {int(schema_version) + 1}")
    finally:
        connection.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    op.create_table(
        "interview_guide",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["study.id"], name=op.f("fk_interview_guide_study_id_study"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interview_guide")),
        sa.UniqueConstraint("study_id", "number", name=op.f("uq_interview_guide_study_id")),
    )
    op.create_index(op.f("ix_interview_guide_study_id"), "interview_guide", ["study_id"], unique=False)

    # Plain ADD COLUMN on both backends (no table rebuild, see the module docstring).
    op.add_column("interview", sa.Column("kind", sa.String(length=12), server_default="interview", nullable=False))
    op.add_column("interview", sa.Column("document_type", sa.String(length=100), server_default="", nullable=False))
    for column, _ in _REFERENCES:
        op.add_column("interview", sa.Column(column, sa.Integer(), nullable=True))
    op.add_column("interview", sa.Column("probe_start_turn", sa.Integer(), nullable=True))
    op.add_column("interview", sa.Column("session_status", sa.String(length=12), server_default="transcribed", nullable=False))
    op.add_column("interview", sa.Column("observer_note", sa.Text(), server_default="", nullable=False))
    op.add_column("interview", sa.Column("checked_at", sa.Date(), nullable=True))
    op.add_column("coding", sa.Column("elicitation", sa.String(length=12), server_default="", nullable=False))
    op.add_column("coding", sa.Column("elicitation_manual", sa.Boolean(), server_default=sa.false(), nullable=False))
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_interview(upgrade=True)
    else:
        op.alter_column("interview", "respondent_id", existing_type=sa.Integer(), nullable=True)
        for column, table in _REFERENCES:
            op.create_foreign_key(f"fk_interview_{column}_{table}", "interview", table, [column], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    # Documents have no respondent: they cannot survive a schema that requires one.
    delete_cascading(op.get_bind(), "interview", "respondent_id IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_interview(upgrade=False)
    else:
        for column, table in _REFERENCES:
            op.drop_constraint(f"fk_interview_{column}_{table}", "interview", type_="foreignkey")
        op.alter_column("interview", "respondent_id", existing_type=sa.Integer(), nullable=False)
    # Plain DROP COLUMN (SQLite 3.35+): no copy of the table, as on the way up.
    for column in ("elicitation_manual", "elicitation"):
        op.drop_column("coding", column)
    for column in ("checked_at", "observer_note", "session_status", "probe_start_turn", "guide_id", "document_type", "kind"):
        op.drop_column("interview", column)
    op.drop_index(op.f("ix_interview_guide_study_id"), table_name="interview_guide")
    op.drop_table("interview_guide")
