#!/usr/bin/python3
"""A local SMTP server for development and tests (Debian's python3-aiosmtpd): every mail it accepts is written to
MAILDIR as one .eml file (written to a temporary name, then renamed, so a reader never sees half a mail), and one line
per mail is appended to MAILDIR/../mail.log (time, recipients, subject) for a person to read.

    scripts/smtp-sink.py PORT MAILDIR

A recipient whose local part starts with 'tempfailN-' (N a digit) is refused with 451 (try again later) the first N
times it is offered, so tests can watch the application's retries against the real server.
"""
import asyncio
import email
import email.policy
import os
import sys
import time
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, maildir):
        self.maildir = maildir
        self.refusals = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@', 1)[0]
        if local.startswith('tempfail') and len(local) > 9 and local[8].isdigit() and local[9] == '-':
            seen = self.refusals.get(address.lower(), 0)
            if seen < int(local[8]):
                self.refusals[address.lower()] = seen + 1
                return '451 4.3.0 Try again later (tempfail test address)'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{uuid.uuid4().hex}.eml"
        tmp = os.path.join(self.maildir, '.' + name + '.tmp')
        with open(tmp, 'wb') as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.maildir, name))
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        line = f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} to={','.join(envelope.rcpt_tos)} " \
               f"subject={message.get('Subject', '')!r} file={name}\n"
        with open(os.path.join(os.path.dirname(self.maildir.rstrip('/')), 'mail.log'), 'a', encoding='utf-8') as log:
            log.write(line)
        return '250 Message accepted for delivery'


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(maildir, exist_ok=True)
    controller = Controller(Sink(maildir), hostname='127.0.0.1', port=port)
    controller.start()
    print(f'smtp-sink: listening on 127.0.0.1:{port}, mail to {maildir}', flush=True)
    try:
        asyncio.new_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == '__main__':
    main()
