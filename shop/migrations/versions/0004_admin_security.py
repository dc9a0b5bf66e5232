"""Security: server-side admin sessions, the login failures the rate limit counts, and the
Instant Checkout orders counted per purchase code and caller.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adminsession',
    sa.Column('id_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('password_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id_hash')
    )
    op.create_index(op.f('ix_adminsession_last_seen_at'), 'adminsession', ['last_seen_at'], unique=False)
    op.create_table('adminloginfailure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_adminloginfailure_client'), 'adminloginfailure', ['client'], unique=False)
    op.create_index(op.f('ix_adminloginfailure_at'), 'adminloginfailure', ['at'], unique=False)
    op.create_table('instantpurchase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_instantpurchase_order_id'), 'instantpurchase', ['order_id'], unique=False)
    op.create_index(op.f('ix_instantpurchase_token_hash'), 'instantpurchase', ['token_hash'], unique=False)
    op.create_index(op.f('ix_instantpurchase_client'), 'instantpurchase', ['client'], unique=False)
    op.create_index(op.f('ix_instantpurchase_created_at'), 'instantpurchase', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_instantpurchase_created_at'), table_name='instantpurchase')
    op.drop_index(op.f('ix_instantpurchase_client'), table_name='instantpurchase')
    op.drop_index(op.f('ix_instantpurchase_token_hash'), table_name='instantpurchase')
    op.drop_index(op.f('ix_instantpurchase_order_id'), table_name='instantpurchase')
    op.drop_table('instantpurchase')
    op.drop_index(op.f('ix_adminloginfailure_at'), table_name='adminloginfailure')
    op.drop_index(op.f('ix_adminloginfailure_client'), table_name='adminloginfailure')
    op.drop_table('adminloginfailure')
    op.drop_index(op.f('ix_adminsession_last_seen_at'), table_name='adminsession')
    op.drop_table('adminsession')
