"""durable analysis queue: analysis_jobs

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 16:00:00

Incidents left without an analysis by the in-memory queue (open, never analysed) are queued here, so an
upgrade analyses what a crash left behind.
"""
import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('analysis_jobs',
    sa.Column('incident_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.PrimaryKeyConstraint('incident_id')
    )
    with op.batch_alter_table('analysis_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analysis_jobs_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_analysis_jobs_requested_at'), ['requested_at'], unique=False)
    op.execute(
        "INSERT INTO analysis_jobs (incident_id, state, version, attempts, requested_at) "
        "SELECT i.id, 'pending', 1, 0, i.updated_at FROM incidents i "
        "WHERE i.status <> 'resolved' AND NOT EXISTS (SELECT 1 FROM analyses a WHERE a.incident_id = i.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table('analysis_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analysis_jobs_requested_at'))
        batch_op.drop_index(batch_op.f('ix_analysis_jobs_state'))
    op.drop_table('analysis_jobs')
