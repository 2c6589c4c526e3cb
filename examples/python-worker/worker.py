#!/usr/bin/env python3
"""A creditmeter worker in Python with the standard library only (CONTRACT §2, §4 v1.1).

It asks before it spends GPU time: `stage.started` with `?wait=` answers the decision. On
`denied` it stops (nothing to charge, nothing done); on `granted` it does the work and reports
`stage.completed` with what was really used.

    CREDITMETER_URL=http://127.0.0.1:3000 CREDITMETER_KEY=cmk_... \\
      python3 worker.py --account acme --session s1 --step scene-1 --action animation \\
      --model veo-3.1-fast --seconds 8

Prints one JSON line per call and exits 0 when the step completed, 3 when it was denied,
1 on an error.
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

WAIT_MS = 10000


class ApiError(Exception):
    """An error answer: { error: { code, message, details? } } and its HTTP status."""

    def __init__(self, status, body):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        super().__init__(f"{status} {error.get('code', 'error')}: {error.get('message', body)}")
        self.status = status
        self.code = error.get("code")


def call(base, key, method, path, body=None):
    """One JSON request with the API key as bearer token; returns (status, parsed body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=WAIT_MS / 1000 + 5) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        raise ApiError(err.code, parsed) from None


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def event(args, type_, attempt, **fields):
    """A stage event (CONTRACT §2); eventIds are derived from the step so a retry is recognised."""
    e = {
        "v": 1,
        "eventId": f"{args.step}.{type_.split('.')[1]}.{attempt}",
        "type": type_,
        "accountId": args.account,
        "sessionId": args.session,
        "stepId": args.step,
        "action": args.action,
        "occurredAt": now_iso(),
    }
    if args.model:
        e["model"] = args.model
    e.update({k: v for k, v in fields.items() if v is not None})
    return e


def report(base, key, e, wait_ms):
    """POSTs an event and, within wait_ms, its decision; polls the status route if 202."""
    status, body = call(base, key, "POST", f"/v1/events?wait={wait_ms}", e)
    if status == 200:
        return body["result"]
    # Not applied within the wait (a long queue): ask where it stands until it is.
    path = f"/v1/accounts/{e['accountId']}/events/{e['eventId']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, st = call(base, key, "GET", path)
        if st["state"] == "applied":
            return st["result"]
        if st["state"] == "failed":
            raise ApiError(409, {"error": {"code": "failed", "message": st["failedReason"]}})
        time.sleep(0.5)
    raise TimeoutError(f"{e['eventId']} not applied within 60 s")


def do_the_work(args):
    """Stands in for the generation itself; returns the seconds actually produced."""
    return args.seconds


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("CREDITMETER_URL", "http://127.0.0.1:3000"))
    p.add_argument("--key", default=os.environ.get("CREDITMETER_KEY"))
    p.add_argument("--account", required=True)
    p.add_argument("--session", required=True)
    p.add_argument("--step", default=f"step-{uuid.uuid4().hex[:12]}")
    p.add_argument("--action", required=True)
    p.add_argument("--model")
    p.add_argument("--seconds", type=float)
    p.add_argument("--scenes", type=int)
    p.add_argument("--attempt", type=int, default=1)
    args = p.parse_args(argv)
    if not args.key:
        p.error("an API key is needed: --key or CREDITMETER_KEY")
    try:
        started = report(args.url, args.key, event(args, "stage.started", args.attempt, seconds=args.seconds, scenes=args.scenes), WAIT_MS)
        print(json.dumps({"event": "stage.started", "result": started}), flush=True)
        if started.get("decision") == "denied" or started["status"] == "denied":
            # Denied: do not spend the GPU time; a retry after credits arrive uses a new attempt.
            print(json.dumps({"stopped": "denied", "reason": started.get("denyReason")}), flush=True)
            return 3
        seconds = do_the_work(args)
        done = report(args.url, args.key, event(args, "stage.completed", args.attempt, seconds=seconds, scenes=args.scenes), WAIT_MS)
        print(json.dumps({"event": "stage.completed", "result": done}), flush=True)
        return 0
    except (ApiError, OSError, TimeoutError) as err:
        print(json.dumps({"error": str(err)}), file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
