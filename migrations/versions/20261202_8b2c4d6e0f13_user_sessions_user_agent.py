"""user sessions remember the browser they were opened from (its User-Agent, cut to 300
characters), so that a person can tell their sessions apart and sign out of the ones
they do not recognise

Revision ID: 8b2c4d6e0f13
Revises: 5d8e1f3a9c21
Create Date: 2026-12-02 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b2c4d6e0f13'
down_revision = '5d8e1f3a9c21'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_agent', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('user_agent')
