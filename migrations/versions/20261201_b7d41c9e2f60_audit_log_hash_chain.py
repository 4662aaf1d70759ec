"""audit log hash chain (issue 8): each audit event stores its place in the chain, the
previous event's hash and its own (SHA-256 over a canonical serialisation); one head row
holds the last place and hash

Back-fills the existing events in the order they were recorded (by id), with a frozen
copy of network.services.audit_chain.canonical (tests check they agree).

Revision ID: b7d41c9e2f60
Revises: 4e4230265799
Create Date: 2026-12-01 21:40:00.000000

"""
import hashlib
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41c9e2f60'
down_revision = '4e4230265799'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64


def _timestamp(value):
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def _hash(row, seq, prev):
    fields = {
        "v": 1,
        "seq": seq,
        "prev": prev,
        "created_at": _timestamp(row.created_at),
        "actor_id": row.actor_id,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "network_id": row.network_id,
        "channel_id": row.channel_id,
        "ip_address": row.ip_address,
        "before": row.before,
        "after": row.after,
    }
    data = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(data.encode()).hexdigest()


def upgrade():
    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.add_column('audit_events', sa.Column('chain_seq', sa.Integer(), nullable=True))
    op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_events', sa.Column('row_hash', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_audit_events_chain_seq'), 'audit_events', ['chain_seq'], unique=True)

    events = sa.table(
        'audit_events',
        sa.column('id', sa.Integer()),
        sa.column('actor_id', sa.Integer()),
        sa.column('action', sa.String()),
        sa.column('entity_type', sa.String()),
        sa.column('entity_id', sa.Integer()),
        sa.column('before', sa.JSON()),
        sa.column('after', sa.JSON()),
        sa.column('created_at', sa.DateTime()),
        sa.column('network_id', sa.Integer()),
        sa.column('channel_id', sa.Integer()),
        sa.column('ip_address', sa.String()),
        sa.column('chain_seq', sa.Integer()),
        sa.column('prev_hash', sa.String()),
        sa.column('row_hash', sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(events).order_by(events.c.id)).all()
    seq, prev = 0, GENESIS_HASH
    for row in rows:
        seq += 1
        digest = _hash(row, seq, prev)
        connection.execute(
            events.update()
            .where(events.c.id == row.id)
            .values(chain_seq=seq, prev_hash=prev, row_hash=digest)
        )
        prev = digest
    connection.execute(head.insert().values(id=1, seq=seq, last_hash=prev))


def downgrade():
    op.drop_index(op.f('ix_audit_events_chain_seq'), table_name='audit_events')
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.drop_column('row_hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')
    op.drop_table('audit_chain_head')
