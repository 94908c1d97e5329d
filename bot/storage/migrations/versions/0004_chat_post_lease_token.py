"""chat_posts.lease_token: the fencing token of a delivery lease

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 18:30:00

Every lease of a delivery row takes the next token; the holder renews and records only while the row still
carries its token, so a holder whose lease ran out can neither post nor overwrite the next holder's record.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('chat_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_token', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('chat_posts', schema=None) as batch_op:
        batch_op.drop_column('lease_token')
