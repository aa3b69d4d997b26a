"""An SMTP server on loopback (aiosmtpd) that logs every message it accepts, one line each:
``<time>\\t<recipient>\\t<Message-ID>``. Run in a process of its own, so it can be stopped (even with
SIGKILL) and started again on the same port and log::

    python -m benchmarks.sink --port 2525 --log /tmp/sink.log

The line is written (and flushed) before the server answers 250, so whatever the log holds was
accepted; a message whose 250 never reached the sender may be sent again, and shows as a duplicate.
"""

from __future__ import annotations

import argparse
import re
import signal
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class Handler:
    def __init__(self, log_path: str) -> None:
        self.log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw: bytes = envelope.original_content or b""
        header_end = raw.find(b"\r\n\r\n")
        match = MESSAGE_ID.search(raw[: header_end if header_end > 0 else len(raw)])
        message_id = match.group(1).decode("ascii", "replace") if match else "-"
        for recipient in envelope.rcpt_tos:
            self.log.write(f"{time.time():.6f}\t{recipient}\t{message_id}\n")
        return "250 Message accepted for delivery"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sink")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args(argv)
    controller = Controller(Handler(args.log), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"sink listening on 127.0.0.1:{args.port}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
