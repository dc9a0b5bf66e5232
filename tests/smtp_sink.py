"""A loopback SMTP server for tests: keeps what it accepts, refuses recipients when told to.

It runs in a thread, so the store's mailer can reach it from the test's own process, from a
worker thread, or from other OS processes alike."""

from __future__ import annotations

import email
import socketserver
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Received:
    recipient: str
    subject: str


class SmtpSink:
    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.received: list[Received] = []
        self.tried: list[str] = []  # every RCPT TO, refused or not
        self.delay_seconds = delay_seconds  # a slow server: each accepted message takes this long
        self._refusals: dict[str, list] = {}  # recipient -> [reply line, times left or None for always]
        self._lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                sink._converse(self.rfile, self.wfile)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"smtp://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> SmtpSink:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True, name="smtp-sink").start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def refuse(self, recipient: str, reply: str, times: int | None = None) -> None:
        """Answer RCPT TO for this recipient with ``reply`` ("550 5.1.1 no such user"),
        ``times`` times or for good."""
        with self._lock:
            self._refusals[recipient] = [reply, times]

    def _refusal(self, recipient: str) -> str | None:
        with self._lock:
            self.tried.append(recipient)
            refusal = self._refusals.get(recipient)
            if refusal is None or refusal[1] == 0:
                return None
            if refusal[1] is not None:
                refusal[1] -= 1
            return refusal[0]

    def _converse(self, rfile, wfile) -> None:
        def say(line: str) -> None:
            wfile.write(f"{line}\r\n".encode())
            wfile.flush()

        say("220 sink ESMTP")
        recipient, data = "", None
        while line := rfile.readline():
            text = line.decode().rstrip("\r\n")
            if data is not None:
                if text != ".":
                    data.append(text[1:] if text.startswith("..") else text)
                    continue
                time.sleep(self.delay_seconds)
                with self._lock:
                    self.received.append(Received(recipient, email.message_from_string("\n".join(data))["Subject"]))
                data = None
                say("250 queued")
                continue
            verb = text.split(" ", 1)[0].split(":", 1)[0].upper()
            if verb == "RCPT":
                recipient = text.split(":", 1)[1].strip().strip("<>")
                say(self._refusal(recipient) or "250 ok")
            elif verb == "DATA":
                data = []
                say("354 go on")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:  # EHLO, MAIL, RSET, NOOP
                say("250 ok")
