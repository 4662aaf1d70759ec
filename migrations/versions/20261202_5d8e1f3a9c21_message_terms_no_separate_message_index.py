"""message terms: drop the separate index on message_id (the unique (message_id, term)
already serves lookups by message); one B-tree fewer written for every indexed word of
every message sent

Revision ID: 5d8e1f3a9c21
Revises: b7d41c9e2f60
Create Date: 2026-12-02 00:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d8e1f3a9c21'
down_revision = 'b7d41c9e2f60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('message_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_terms_message_id'))


def downgrade():
    with op.batch_alter_table('message_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_terms_message_id'), ['message_id'], unique=False)
