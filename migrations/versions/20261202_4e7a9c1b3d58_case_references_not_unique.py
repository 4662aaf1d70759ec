"""case references are no longer unique per network in the database: the service refuses
a reference that repeats a case its author may read, and only that one, because a refusal
for a case they may not read told a bystander that a confidential case with that
reference exists (an access review); a plain index keeps the lookups

Revision ID: 4e7a9c1b3d58
Revises: 8b2c4d6e0f13
Create Date: 2026-12-02 03:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4e7a9c1b3d58'
down_revision = '8b2c4d6e0f13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cases_network_id', type_='unique')
        batch_op.create_index('ix_cases_network_reference', ['network_id', 'reference'])


def downgrade():
    # Fails if two cases of a network now share a reference: rename one first.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_network_reference')
        batch_op.create_unique_constraint('uq_cases_network_id', ['network_id', 'reference'])
