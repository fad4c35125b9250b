"""SMS and push providers for the prod-like stack (scripts/prod-like.sh), as one process.

Production refuses the development providers (console SMS, dev push outbox), so the
prod-like stack runs the real Twilio and FCM adapters against the project's HTTP
stand-ins (canteen_testkit, in tools/testkit). This process starts both, writes the
settings that point the API and the workers at them to WORK/standins.env, the FCM key
file to WORK/fcm.json, and appends every accepted SMS and push to WORK/sms.jsonl and
WORK/push.jsonl, which is how a tester (or the prod-like test) reads an OTP.

    python deploy/local/standins.py WORK
"""

from __future__ import annotations

import json
import secrets
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from canteen_testkit.fcm_standin import FcmReceivedMessage, FcmStandIn
from canteen_testkit.standins import TwilioReceivedMessage, TwilioStandIn

_write_lock = threading.Lock()


def _append(path: Path, record: dict[str, Any]) -> None:
    with _write_lock, path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, default=str) + "\n")


def main(work: Path) -> None:
    sms_log, push_log = work / "sms.jsonl", work / "push.jsonl"

    class Twilio(TwilioStandIn):
        def _record(self, message: TwilioReceivedMessage) -> None:
            super()._record(message)
            _append(sms_log, {"to": message.to, "body": message.body, "sid": message.sid})

    class Fcm(FcmStandIn):
        def _record(self, message: FcmReceivedMessage) -> None:
            super()._record(message)
            _append(push_log, asdict(message))

    # Fresh, real-looking credentials each start: production's checks see a Twilio
    # account and token, not a placeholder.
    account_sid = "AC" + secrets.token_hex(16)
    twilio = Twilio(account_sid, secrets.token_hex(16)).start()
    fcm = Fcm(project_id="canteen-prod-like").start()
    fcm.write_service_account(work / "fcm.json")
    settings = {
        "CANTEEN_SMS_PROVIDER": "twilio",
        "CANTEEN_TWILIO_ACCOUNT_SID": account_sid,
        "CANTEEN_TWILIO_AUTH_TOKEN": twilio.auth_token,
        "CANTEEN_TWILIO_FROM_NUMBER": "+15005550006",
        "CANTEEN_TWILIO_BASE_URL": twilio.base_url,
        "CANTEEN_PUSH_PROVIDER": "fcm",
        "CANTEEN_FCM_CREDENTIALS_FILE": str(work / "fcm.json"),
        "CANTEEN_FCM_PROJECT_ID": "canteen-prod-like",
        "CANTEEN_FCM_BASE_URL": fcm.base_url,
    }
    env_file = work / "standins.env"
    tmp = env_file.with_suffix(".tmp")
    tmp.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    tmp.rename(env_file)  # the script waits for this file: it appears complete

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    twilio.stop()
    fcm.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
