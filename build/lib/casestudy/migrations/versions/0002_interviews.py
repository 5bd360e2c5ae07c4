"""interviews: imported transcripts, speaker turns and sentences

Revision ID: 0002_interviews
Revises: 0001_foundation
Create Date: 2026-11-26 07:06:22.559611
"""

from alembic import op
import sqlalchemy as sa


revision = '0002_interviews'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interview',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('respondent_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('encoding', sa.String(length=40), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('interviewer', sa.String(length=200), nullable=False),
    sa.Column('observer', sa.String(length=200), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=True),
    sa.Column('audio_ref', sa.String(length=500), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('speaker_roles', sa.JSON(), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_interview_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['respondent_id'], ['respondent.id'], name=op.f('fk_interview_respondent_id_respondent'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], name=op.f('fk_interview_study_id_study'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview')),
    sa.UniqueConstraint('study_id', 'sha256', name=op.f('uq_interview_study_id'))
    )
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_respondent_id'), ['respondent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_study_id'), ['study_id'], unique=False)

    op.create_table('sentence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('turn_ordinal', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_sentence_interview_id_interview'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sentence')),
    sa.UniqueConstraint('interview_id', 'ordinal', name=op.f('uq_sentence_interview_id'))
    )
    op.create_table('speaker_turn',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interview_id', sa.Integer(), nullable=False),
    sa.Column('ordinal', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('start', sa.Integer(), nullable=False),
    sa.Column('end', sa.Integer(), nullable=False),
    sa.Column('text_start', sa.Integer(), nullable=False),
    sa.Column('time', sa.String(length=60), nullable=False),
    sa.ForeignKeyConstraint(['interview_id'], ['interview.id'], name=op.f('fk_speaker_turn_interview_id_interview'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_speaker_turn')),
    sa.UniqueConstraint('interview_id', 'ordinal', name=op.f('uq_speaker_turn_interview_id'))
    )


def downgrade() -> None:
    op.drop_table('speaker_turn')
    op.drop_table('sentence')
    with op.batch_alter_table('interview', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_study_id'))
        batch_op.drop_index(batch_op.f('ix_interview_respondent_id'))
        batch_op.drop_index(batch_op.f('ix_interview_case_id'))

    op.drop_table('interview')
