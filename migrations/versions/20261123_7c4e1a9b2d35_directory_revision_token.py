"""directory revision token: tells search processes when their facet index is stale

A single row whose random token is replaced in the same transaction as every write to
contact points (network.services.directory_index). The row is created here.

Revision ID: 7c4e1a9b2d35
Revises: 403c2c5980b0
Create Date: 2026-11-23 16:00:00.000000

"""
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c4e1a9b2d35'
down_revision = '403c2c5980b0'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('directory_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_revision'))
    )
    op.bulk_insert(
        table,
        [
            {
                'id': 1,
                'token': uuid.uuid4().hex,
                'changed_at': datetime.now(timezone.utc).replace(tzinfo=None),
            }
        ],
    )


def downgrade():
    op.drop_table('directory_revision')
