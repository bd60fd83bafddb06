#!/usr/bin/python3
"""A test SMTP server (aiosmtpd) that stores every message it accepts.

Usage: smtp_server.py --port N --out DIR [--tls-cert F --tls-key F] [--user U --password P]
                      [--rcpt-reply "450 4.2.0 try later"]

With a cert and key it offers STARTTLS; with a user and password it offers AUTH PLAIN/LOGIN
(after STARTTLS only, aiosmtpd's default) and answers 535 to anything else. --rcpt-reply
answers every RCPT TO with that reply. Each accepted message is written as DIR/<n>.eml (the DATA
bytes as received) and DIR/<n>.json: the envelope (mail_from, rcpt_tos, auth_user, tls), what
Python's email package makes of the message (headers decoded, parts, defects) and line facts
(longest line, bare LFs), the .json last and by rename, so a reader that sees it sees both. Prints READY once it accepts connections; exits on SIGTERM or SIGINT.
"""

import argparse
import email
import email.policy
import itertools
import json
import os
import signal
import ssl
import logging
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def describe(data):
    message = email.message_from_bytes(data, policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append({
            "type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })
    lines = data.split(b"\r\n")
    return {
        "headers": {name: str(value) for name, value in message.items()},
        "content_type": message.get_content_type(),
        "parts": parts,
        "defects": [repr(d) for part in message.walk() for d in part.defects],
        "longest_line": max(len(line) for line in lines),
        "bare_lf": any(b"\n" in line for line in lines),
    }


class store_handler:
    def __init__(self, out, rcpt_reply):
        self.out = out
        self.rcpt_reply = rcpt_reply
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        base = os.path.join(self.out, "%04d" % n)
        data = envelope.original_content or envelope.content
        with open(base + ".eml", "wb") as f:
            f.write(data)
        meta = describe(data)
        meta.update({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": session.auth_data,
            "tls": session.ssl is not None,
        })
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        return "250 Message accepted for delivery"


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        if auth_data.login.decode() == user and auth_data.password.decode() == password:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    return authenticate


def main():
    # aiosmtpd itself sets the deprecated Session.login_data on every successful AUTH and logs
    # a warning about it; only errors are worth a line in the test output.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--rcpt-reply")
    args = parser.parse_args()

    smtp_options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        smtp_options["tls_context"] = context
    if args.user:
        smtp_options["authenticator"] = make_authenticator(args.user, args.password)
    controller = Controller(store_handler(args.out, args.rcpt_reply), hostname="127.0.0.1", port=args.port,
                            **smtp_options)
    controller.start()
    print("READY", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sys.exit(main())
