"""Reports stage: determinant mappings confirmed by a researcher.

Revision ID: 0005_reports
Revises: 0001_foundation
Create Date: 2026-11-26 07:13:56.618564
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_reports'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('determinant_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('determinant_text', sa.String(length=500), nullable=False),
    sa.Column('canonical', sa.String(length=300), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by', sa.String(length=100), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_determinant_mapping_study_id_study'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_determinant_mapping')),
    sa.UniqueConstraint('study_id', 'determinant_text', name='uq_determinant_mapping_study_text')
    )
    with op.batch_alter_table('determinant_mapping', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_determinant_mapping_study_id'), ['study_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('determinant_mapping', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_determinant_mapping_study_id'))

    op.drop_table('determinant_mapping')
