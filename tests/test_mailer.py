"""Order confirmations go out by SMTP when a server is configured."""

import asyncio

import pytest
from sqlmodel import select

from shop.mailer import send_outbox
from shop.models import OutboxMessage

pytestmark = pytest.mark.anyio


class TinySmtpServer:
    """Just enough SMTP to receive one message per connection, on loopback."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test ESMTP\r\n")
        data_lines: list[str] | None = None
        while line := await reader.readline():
            text = line.decode().rstrip("\r\n")
            if data_lines is not None:
                if text == ".":
                    self.messages.append("\n".join(data_lines))
                    data_lines = None
                    writer.write(b"250 queued\r\n")
                else:
                    data_lines.append(text)
                continue
            verb = text.split(" ")[0].upper()
            if verb == "DATA":
                data_lines = []
                writer.write(b"354 go on\r\n")
            elif verb == "QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()


async def test_unsent_confirmations_are_sent_once(app):
    smtp = TinySmtpServer()
    server = await asyncio.start_server(smtp.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    app.state.settings = type(app.state.settings)(**{**app.state.settings.__dict__,
                                                     "smtp_url": f"smtp://127.0.0.1:{port}"})
    with app.state.db() as session:
        session.add(OutboxMessage(recipient="ada@example.com", subject="Your order CW-1 is confirmed", body="Thanks!"))
        session.commit()
    try:
        assert await send_outbox(app.state) == 1
        assert await send_outbox(app.state) == 0
    finally:
        server.close()
        await server.wait_closed()
    assert len(smtp.messages) == 1 and "Subject: Your order CW-1 is confirmed" in smtp.messages[0]
    with app.state.db() as session:
        assert session.exec(select(OutboxMessage)).one().sent_at is not None


async def test_without_smtp_messages_stay_in_the_outbox(app):
    with app.state.db() as session:
        session.add(OutboxMessage(recipient="ada@example.com", subject="s", body="b"))
        session.commit()
    assert await send_outbox(app.state) == 0
