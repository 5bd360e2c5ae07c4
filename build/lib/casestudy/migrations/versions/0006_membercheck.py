"""Member check: reconstructions, frozen versions, member-check rounds, responses, paragraph comments, case summaries.

Revision ID: 0006_membercheck
Revises: 0001_foundation
Create Date: 2026-11-26 07:06:45.192143
"""

from alembic import op
import sqlalchemy as sa


revision = '0006_membercheck'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_summary',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('programme', sa.Text(), nullable=False),
    sa.Column('outcome_class', sa.String(length=20), nullable=False),
    sa.Column('component_outcomes', sa.JSON(), nullable=False),
    sa.Column('outcome_descriptors', sa.Text(), nullable=False),
    sa.Column('determinants', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_summary_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_summary')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_summary_case_id'))
    )
    op.create_table('reconstruction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_reconstruction_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconstruction')),
    sa.UniqueConstraint('case_id', name=op.f('uq_reconstruction_case_id'))
    )
    op.create_table('reconstruction_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('change_note', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('agreed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_reconstruction_version_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconstruction_version')),
    sa.UniqueConstraint('case_id', 'number', name=op.f('uq_reconstruction_version_case_id'))
    )
    with op.batch_alter_table('reconstruction_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconstruction_version_case_id'), ['case_id'], unique=False)

    op.create_table('member_check_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_member_check_round_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['reconstruction_version.id'], name=op.f('fk_member_check_round_version_id_reconstruction_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_check_round')),
    sa.UniqueConstraint('case_id', 'number', name=op.f('uq_member_check_round_case_id'))
    )
    with op.batch_alter_table('member_check_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_check_round_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_check_round_version_id'), ['version_id'], unique=False)

    op.create_table('review_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('respondent_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('general_comment', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('version_hash', sa.String(length=64), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consent_record.id'], name=op.f('fk_review_response_consent_id_consent_record'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['respondent_id'], ['respondent.id'], name=op.f('fk_review_response_respondent_id_respondent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['member_check_round.id'], name=op.f('fk_review_response_round_id_member_check_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_response')),
    sa.UniqueConstraint('round_id', 'respondent_id', name=op.f('uq_review_response_round_id'))
    )
    with op.batch_alter_table('review_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_response_respondent_id'), ['respondent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_response_round_id'), ['round_id'], unique=False)

    op.create_table('paragraph_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('paragraph_index', sa.Integer(), nullable=False),
    sa.Column('paragraph_hash', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('processed', sa.Boolean(), nullable=False),
    sa.Column('processed_how', sa.Text(), nullable=False),
    sa.Column('processed_by', sa.String(length=200), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['review_response.id'], name=op.f('fk_paragraph_comment_response_id_review_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paragraph_comment')),
    sa.UniqueConstraint('response_id', 'paragraph_index', name=op.f('uq_paragraph_comment_response_id'))
    )
    with op.batch_alter_table('paragraph_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paragraph_comment_response_id'), ['response_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('paragraph_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paragraph_comment_response_id'))

    op.drop_table('paragraph_comment')
    with op.batch_alter_table('review_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_response_round_id'))
        batch_op.drop_index(batch_op.f('ix_review_response_respondent_id'))

    op.drop_table('review_response')
    with op.batch_alter_table('member_check_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_check_round_version_id'))
        batch_op.drop_index(batch_op.f('ix_member_check_round_case_id'))

    op.drop_table('member_check_round')
    with op.batch_alter_table('reconstruction_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconstruction_version_case_id'))

    op.drop_table('reconstruction_version')
    op.drop_table('reconstruction')
    op.drop_table('case_summary')
