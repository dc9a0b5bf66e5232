"""Order numbers counted in the database: one counter row per year.

The counters start where the orders already placed left off, so that no number is given twice.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00.000000
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

NUMBER = re.compile(r"^CW(\d{4})-(\d+)$")


def upgrade() -> None:
    counter = op.create_table('ordernumbercounter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    last: dict[int, int] = {}
    for (number,) in op.get_bind().execute(sa.text('SELECT number FROM "order"')):
        if found := NUMBER.match(number):
            year, count = int(found.group(1)), int(found.group(2))
            last[year] = max(last.get(year, 0), count)
    if last:
        op.bulk_insert(counter, [{'year': year, 'last_number': count} for year, count in sorted(last.items())])


def downgrade() -> None:
    op.drop_table('ordernumbercounter')
