"""Reading and changing rows of an in-process app's database directly, for tests that set up a
state (an order past its expiry, a stale payment) or check what the store wrote."""

from __future__ import annotations

from sqlmodel import select


def get(app, model, row_id):
    with app.state.db() as session:
        return session.get(model, row_id)


def rows(app, model, **where) -> list:
    with app.state.db() as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list(session.exec(query))


def change(app, model, row_id, **fields) -> None:
    with app.state.db() as session:
        row = session.get(model, row_id)
        for name, value in fields.items():
            setattr(row, name, value)
        session.add(row)
        session.commit()
