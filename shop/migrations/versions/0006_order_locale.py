"""Orders remember the language they were placed in: their e-mails go out in it.

Orders placed before this were placed in English, the only language the shop spoke.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 01:30:00.000000
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                      server_default='en'))


def downgrade() -> None:
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('locale')
