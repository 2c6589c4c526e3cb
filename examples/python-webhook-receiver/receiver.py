#!/usr/bin/env python3
"""A creditmeter webhook receiver using only the Python standard library.

It checks every delivery the way docs/webhooks.md describes, and answers:
  200  a verified delivery (also when it is a repeat of one already handled: deliveries are at
       least once, so the same `Creditmeter-Delivery` id may arrive again; it is handled once)
  400  a missing or wrong signature, or a timestamp older than the tolerance (a replay)

Each verified delivery is printed as one JSON line on stdout; do your own work there instead
(send the email, update the CRM). Answer quickly: creditmeter counts an answer later than 10 s
as a failure and retries, so queue slow work and answer 200 first.

    CREDITMETER_WEBHOOK_SECRET=whsec_... PORT=8787 python3 receiver.py
"""
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("CREDITMETER_WEBHOOK_SECRET", "")
PORT = int(os.environ.get("PORT", "8787"))
HOST = os.environ.get("HOST", "127.0.0.1")
TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024

# Delivery ids already handled. In production keep these in your database (a unique key on
# the id), so that a retry after your own restart is still recognised.
handled = set()


def verify(secret, header, raw_body, now=None):
    """True when some v1 of the header is the HMAC-SHA256 of "<t>.<raw body>" and t is recent."""
    fields = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    timestamps = [value for key, value in fields if key == "t"]
    if len(timestamps) != 1 or not timestamps[0].isdigit():
        return False
    t = int(timestamps[0])
    if abs((now if now is not None else time.time()) - t) > TOLERANCE_SECONDS:
        return False
    signed = timestamps[0].encode() + b"." + raw_body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    # During a secret rotation two v1 values are sent: accept the delivery if any matches.
    return any(hmac.compare_digest(expected, value) for key, value in fields if key == "v1")


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY_BYTES:
            return self.answer(413, "too large")
        raw = self.rfile.read(length)  # the raw bytes: the signature covers them exactly
        if not verify(SECRET, self.headers.get("Creditmeter-Signature", ""), raw):
            return self.answer(400, "bad signature")
        event = json.loads(raw)
        delivery_id = self.headers.get("Creditmeter-Delivery", "")
        repeat = delivery_id in handled
        handled.add(delivery_id)
        if not repeat:
            print(json.dumps({"verified": True, "id": event["id"], "type": event["type"], "data": event["data"]}), flush=True)
        self.answer(200, "ok")

    def answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):  # keep stdout for the events
        sys.stderr.write("receiver: " + (fmt % args) + "\n")


if __name__ == "__main__":
    if not SECRET:
        sys.exit("set CREDITMETER_WEBHOOK_SECRET to the secret POST /v1/webhooks answered")
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    print(json.dumps({"listening": PORT}), flush=True)
    server.serve_forever()
