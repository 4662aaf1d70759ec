"""Session version on users: raising it on a password change ends every other session
and remember-me cookie of the account.

Revision ID: 537d37ed494a
Revises: 7c4e1a9b2d35
Create Date: 2026-11-23 15:59:56.636707

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '537d37ed494a'
down_revision = '7c4e1a9b2d35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')

