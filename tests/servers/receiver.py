#!/usr/bin/env python3
"""A notification receiver for tests/notify.rs, on 127.0.0.1.

    receiver.py --secret whsec_... --record FILE [--script 503:1,204] [--hang]

Prints its port on the first line, then serves POSTs. Each request is one
JSON line in FILE: path, query, headers, body, and what the published
libraries say of it:
  - `verified`: standardwebhooks.Webhook(secret).verify(body, headers) passed;
  - `tamper_rejected`: the same with one byte of the body changed raised;
  - `stale_rejected`: the same headers with a timestamp 400 s old raised;
  - `slack_valid`: every block parses with slack_sdk's models and validates.
The answers follow --script (status[:retry-after] per request; the last one
repeats); --hang accepts and never answers.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

ap = argparse.ArgumentParser()
ap.add_argument("--secret", required=True)
ap.add_argument("--record", required=True)
ap.add_argument("--script", default="204")
ap.add_argument("--hang", action="store_true")
args = ap.parse_args()
script = [s.split(":") for s in args.script.split(",")]
lock = threading.Lock()
count = [0]


def check(body: bytes, headers: dict) -> dict:
    out = {}
    hook = Webhook(args.secret)
    try:
        hook.verify(body, headers)
        out["verified"] = True
    except Exception as e:  # the library's verdict, recorded
        out["verified"] = False
        out["error"] = f"{type(e).__name__}: {e}"
    tampered = bytearray(body)
    if tampered:
        tampered[len(tampered) // 2] ^= 1
    try:
        hook.verify(bytes(tampered), headers)
        out["tamper_rejected"] = False
    except Exception:
        out["tamper_rejected"] = True
    stale = dict(headers)
    stale["webhook-timestamp"] = str(int(time.time()) - 400)
    try:
        hook.verify(body, stale)
        out["stale_rejected"] = False
    except Exception:
        out["stale_rejected"] = True
    return out


def slack(body: bytes) -> dict:
    from slack_sdk.models.blocks import Block

    try:
        msg = json.loads(body)
        assert isinstance(msg.get("text"), str) and msg["text"], "text must be set"
        blocks = Block.parse_all(msg.get("blocks") or [])
        assert len(blocks) == len(msg.get("blocks") or []), "a block did not parse"
        for b in blocks:
            b.validate_json()
        return {"slack_valid": True}
    except Exception as e:
        return {"slack_valid": False, "slack_error": f"{type(e).__name__}: {e}"}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        n = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(n)
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = urlsplit(self.path)
        rec = {"path": url.path, "query": url.query, "headers": headers,
               "body": body.decode("utf-8", "replace"), "time": time.time()}
        if "webhook-signature" in headers:
            rec.update(check(body, headers))
        if url.path.startswith("/slack"):
            rec.update(slack(body))
        with lock:
            i = count[0]
            count[0] += 1
            with open(args.record, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if args.hang:
            time.sleep(3600)
            return
        step = script[min(i, len(script) - 1)]
        self.send_response(int(step[0]))
        if len(step) > 1:
            self.send_header("Retry-After", step[1])
        self.send_header("content-length", "0")
        self.end_headers()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
