#!/usr/bin/env python3
"""A test SMTP receiver on a random loopback port, for crates/perksu/tests/email.

Prints `listening on PORT` once ready, then one JSON line per accepted message on stdout:
{"from", "to", "data"}. With --refuse CODE every message is refused with that reply (550 or
451), and the refusal is printed as {"refused": CODE}. Stops when stdin closes.
"""
import argparse
import asyncio
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
        print(json.dumps({
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf8", errors="replace"),
        }), flush=True)
        return "250 OK"


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
