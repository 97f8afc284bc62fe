#!/usr/bin/env python3
"""A test SMTP receiver on a random loopback port, for crates/perksu/tests/email.

Prints `listening on PORT` once ready, then one JSON line per accepted message on stdout:
{"from", "to", "data", "message_id", "subject", "text", "html"}, the last ones decoded from
the message.
With --refuse CODE every message is refused with that reply (550 or
451), and the refusal is printed as {"refused": CODE}. Stops when stdin closes.
"""
import argparse
import asyncio
import email
import email.policy
import json
import socket
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, refuse):
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            print(json.dumps({"refused": self.refuse}), flush=True)
            return f"{self.refuse} refused by the test receiver"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf8", errors="replace"),
            "message_id": str(message["message-id"] or ""),
            "subject": str(message["subject"] or ""),
            "text": part(message, "plain"),
            "html": part(message, "html"),
        }), flush=True)
        return "250 OK"


def part(message, subtype):
    """The decoded text of the message's text/SUBTYPE part, or an empty string."""
    body = message.get_body(preferencelist=(subtype,))
    return body.get_content() if body is not None else ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--refuse", type=int, default=0)
    args = parser.parse_args()
    # The controller checks its server by connecting to the port, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(args.refuse), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening on {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
