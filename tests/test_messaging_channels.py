"""Telegram and Twilio (SMS/WhatsApp) end to end, through Rasa's own connectors: the real
Rasa server and action server as processes, the exact webhook payloads the providers send
(JSON updates for Telegram, signed form posts for Twilio), and a stand-in for the
providers' APIs on 127.0.0.1 that the connectors' own clients (aiogram, twilio-python) talk
to. Each test asserts what the parent would receive on their phone."""

from __future__ import annotations

import itertools
import json
import secrets
import time

import pytest
import requests
from twilio.request_validator import RequestValidator

from bot.channels import store
from tests.conftest import MODEL
from tests.provider_standin import Standin
from tests.servers import free_port, start

TG_TOKEN = "123456789:AAFakeTokenForTheStandInOnly_0123456789"
TG_SECRET = secrets.token_urlsafe(24)
TW_SID = "AC" + secrets.token_hex(16)
TW_AUTH = secrets.token_hex(16)
TW_NUMBER = "+15005550006"
COUNSELLOR = secrets.token_hex(16)
_ids = itertools.count(int(time.time()) % 100000 * 1000)


@pytest.fixture(scope="module")
def standin():
    provider = Standin().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def srv(tmp_path_factory, standin):
    assert MODEL.exists(), "no trained model"
    rasa_port, action_port = free_port(), free_port()
    servers = start(tmp_path_factory.mktemp("messaging"), {
        "PUBLIC_URL": f"http://127.0.0.1:{rasa_port}",
        "TELEGRAM_TOKEN": TG_TOKEN, "TELEGRAM_BOT_NAME": "gentle_parenting_test_bot",
        "TELEGRAM_SECRET_TOKEN": TG_SECRET, "TELEGRAM_API_URL": f"{standin.url}/telegram",
        "TWILIO_ACCOUNT_SID": TW_SID, "TWILIO_AUTH_TOKEN": TW_AUTH, "TWILIO_NUMBER": TW_NUMBER,
        "TWILIO_API_URL": f"{standin.url}/twilio",
        "MESSAGING_SEND_RETRIES": "3", "MESSAGING_SEND_BACKOFF": "0.05",
        "COUNSELLOR_TOKENS": f"alex:{COUNSELLOR}", "HANDOFF_CLAIM_TIMEOUT": "600",
        "DEFAULT_COUNTRY": "",
    }, ports=(rasa_port, action_port))
    yield servers
    servers.stop_all()


# --- Twilio -----------------------------------------------------------------------------

def new_number() -> str:
    return f"+4477009{secrets.randbelow(10 ** 5):05d}"


def twilio_form(sender: str, body: str, sid: str | None = None, to: str = TW_NUMBER) -> dict:
    """What Twilio posts for an incoming SMS ("A message comes in")."""
    return {"ToCountry": "US", "SmsMessageSid": sid or f"SM{secrets.token_hex(16)}",
            "NumMedia": "0", "ToCity": "", "FromZip": "", "SmsSid": "", "FromState": "",
            "SmsStatus": "received", "FromCity": "", "Body": body, "FromCountry": "GB",
            "To": to, "MessageSid": sid or f"SM{secrets.token_hex(16)}", "NumSegments": "1",
            "ReferralNumMedia": "0", "AccountSid": TW_SID, "From": sender, "ApiVersion":
            "2010-04-01"}


def twilio_post(srv, form: dict, signature: str | None = "sign") -> requests.Response:
    url = f"{srv.rasa_url}/webhooks/twilio/webhook"
    if signature == "sign":
        signature = RequestValidator(TW_AUTH).compute_signature(url, form)
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return requests.post(url, data=form, headers=headers, timeout=60)


def sms(srv, standin, sender: str, body: str, **kwargs) -> list[str]:
    """Send one SMS and return the bodies the parent receives for it."""
    before = len(standin.messages("twilio", sender))
    response = twilio_post(srv, twilio_form(sender, body, **kwargs))
    assert response.status_code == 200, response.text
    return [m["Body"] for m in standin.messages("twilio", sender)[before:]]


def tracker(srv, sender: str) -> dict:
    return requests.get(f"{srv.rasa_url}/conversations/{sender}/tracker",
                        params={"token": srv.token}, timeout=30).json()


def user_intents(srv, sender: str) -> list[str]:
    return [e["parse_data"]["intent"]["name"] for e in tracker(srv, sender)["events"]
            if e["event"] == "user"]


def test_sms_concern_answer_has_numbered_options_and_a_number_is_understood(srv, standin):
    parent = new_number()
    bodies = sms(srv, standin, parent, "I yelled at my 4 year old this morning and I feel awful")
    assert bodies, "the parent gets an answer"
    assert all(len(b) <= 1600 for b in bodies), "each SMS body within Twilio's limit"
    last = bodies[-1]
    assert "Reply 1 for" in last and "2 for" in last, last
    sent = standin.messages("twilio", parent)[-1]
    assert sent["From"] == TW_NUMBER, "answered from the number the parent wrote to"
    assert "\u2019" not in "".join(bodies), "SMS text kept to the GSM alphabet"

    first_option = last.split("Reply 1 for ", 1)[1].split(",", 1)[0]
    replies = sms(srv, standin, parent, "1")
    assert replies, "a numbered reply gets an answer"
    option_intents = {"words to use": "request_words", "tell me more": "request_more",
                      "something else": "something_else"}
    assert user_intents(srv, parent)[-1] == option_intents[first_option.lower()]


def test_sms_crisis_gets_crisis_help(srv, standin):
    parent = new_number()
    bodies = " ".join(sms(srv, standin, parent, "I don't want to be alive anymore"))
    assert "emergency" in bodies.lower() or "999" in bodies or "911" in bodies, bodies
    assert "<" not in bodies and "](" not in bodies, "numbers as plain text, no markup"


def test_forged_or_unsigned_twilio_webhooks_are_refused(srv, standin):
    parent = new_number()
    form = twilio_form(parent, "hello")
    assert twilio_post(srv, form, signature=None).status_code == 403
    assert twilio_post(srv, form, signature="AAAAforgedAAAA=").status_code == 403
    signed_other = RequestValidator("not-the-auth-token").compute_signature(
        f"{srv.rasa_url}/webhooks/twilio/webhook", form)
    assert twilio_post(srv, form, signature=signed_other).status_code == 403
    tampered = dict(form)
    good = RequestValidator(TW_AUTH).compute_signature(
        f"{srv.rasa_url}/webhooks/twilio/webhook", form)
    tampered["Body"] = "something else"
    assert twilio_post(srv, tampered, signature=good).status_code == 403
    time.sleep(0.5)
    assert standin.messages("twilio", parent) == [], "nothing answered"
    assert [e for e in tracker(srv, parent)["events"] if e["event"] == "user"] == []
    log = (srv.tmp / "logs" / "rasa.log").read_text(errors="replace")
    assert "refused a webhook without a valid X-Twilio-Signature" in log


def test_duplicate_twilio_delivery_is_answered_once(srv, standin):
    parent, sid = new_number(), f"SM{secrets.token_hex(16)}"
    first = sms(srv, standin, parent, "hi there", sid=sid)
    assert first
    again = sms(srv, standin, parent, "hi there", sid=sid)
    assert again == [], "the re-delivered webhook is not answered twice"
    assert user_intents(srv, parent).count("greet") == 1


def test_stop_help_start_keywords(srv, standin):
    parent = new_number()
    assert sms(srv, standin, parent, "hello")
    stopped = sms(srv, standin, parent, "STOP")
    assert len(stopped) == 1 and "START" in stopped[0]
    assert sms(srv, standin, parent, "are you there?") == [], "nothing after STOP"
    helped = " ".join(sms(srv, standin, parent, "help"))
    assert "999" in helped and "911" in helped and "STOP" in helped
    crisis = " ".join(sms(srv, standin, parent, "i want to end my life tonight"))
    assert "999" in crisis and "START" in crisis, "a crisis is answered even after STOP"
    started = sms(srv, standin, parent, "Start")
    assert len(started) == 1 and "Welcome back" in started[0]
    assert sms(srv, standin, parent, "my toddler has huge tantrums"), "answered again"
    assert "stop" not in user_intents(srv, parent), "keywords never reach the assistant"


def test_provider_failure_is_retried_then_recorded_and_sent_later(srv, standin):
    parent = new_number()
    standin.fail_next = 2  # two 500s, then Twilio accepts
    assert sms(srv, standin, parent, "hello"), "delivered on the third attempt"
    assert len([c for c in standin.calls("twilio", "Messages")
                if c.fields.get("To") == parent and c.status == 500]) == 2

    standin.fail_next = 100  # Twilio down for longer than the retries
    sms(srv, standin, parent, "my baby cries at every drop off")
    standin.fail_next = 0
    failures = store.undelivered(srv.database_url, "twilio", parent)
    assert len(failures) >= 1 and all(f["attempts"] == 3 for f in failures)
    kept = [f["text"] for f in failures]

    later = sms(srv, standin, parent, "thank you")
    assert later[:len(kept)] == kept, "the kept replies go out first, in order"
    assert store.undelivered(srv.database_url, "twilio", parent) == []


def test_whatsapp_is_answered_on_whatsapp(srv, standin):
    parent, ours = f"whatsapp:{new_number()}", f"whatsapp:{TW_NUMBER}"
    bodies = sms(srv, standin, parent, "hello", to=ours)
    assert bodies and standin.messages("twilio", parent)[-1]["From"] == ours


def test_counsellor_reply_reaches_the_parent_by_sms(srv, standin):
    parent = new_number()
    sms(srv, standin, parent, "I'm in the UK")
    started = " ".join(sms(srv, standin, parent, "can I talk to a real person please"))
    assert "counsellor" in started.lower() or "person" in started.lower(), started
    headers = {"Authorization": f"Bearer {COUNSELLOR}"}
    base = f"{srv.rasa_url}/webhooks/counsellor/api"
    handoffs = requests.get(f"{base}/handoffs", headers=headers, timeout=30).json()["handoffs"]
    mine = [h for h in handoffs if h["conversation_id"] == parent]
    assert len(mine) == 1 and mine[0]["channel"] == "twilio"
    hid = mine[0]["id"]
    assert requests.post(f"{base}/handoffs/{hid}/claim", headers=headers,
                         timeout=30).status_code == 200
    before = len(standin.messages("twilio", parent))
    words = "Hi, I'm Alex from the helpline. I'm here with you now."
    assert requests.post(f"{base}/handoffs/{hid}/messages", headers=headers,
                         json={"text": words}, timeout=30).status_code == 200
    got = standin.wait_for("twilio", parent, before + 1, timeout=30)
    assert got[-1]["Body"] == words.replace("\u2019", "'")
    sent = requests.post(f"{base}/handoffs/{hid}/messages", headers=headers,
                         json={"text": "Still here."}, timeout=30).json()
    assert sent["delivered"] == "pushed"

    # The parent replies STOP: the counsellor is told, and nothing more is texted.
    sms(srv, standin, parent, "STOP")
    before = len(standin.messages("twilio", parent))
    sent = requests.post(f"{base}/handoffs/{hid}/messages", headers=headers,
                         json={"text": "Are you still there?"}, timeout=30).json()
    assert sent["delivered"] == "opted_out"
    time.sleep(1)
    assert len(standin.messages("twilio", parent)) == before, "nothing sent after STOP"
    lines = requests.get(f"{base}/handoffs/{hid}", headers=headers, timeout=30).json()
    assert "Are you still there?" in json.dumps(lines), "kept in the transcript"
    requests.post(f"{base}/handoffs/{hid}/close", headers=headers, timeout=30)


# --- Telegram ---------------------------------------------------------------------------

def update(chat_id: int, text: str, update_id: int | None = None) -> dict:
    """A Telegram Update for a private text message, as the Bot API posts it."""
    return {"update_id": update_id or next(_ids), "message": {
        "message_id": next(_ids) % 100000, "date": int(time.time()), "text": text,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"},
        "chat": {"id": chat_id, "first_name": "Sam", "type": "private"}}}


def button_press(chat_id: int, data: str) -> dict:
    return {"update_id": next(_ids), "callback_query": {
        "id": str(next(_ids)), "chat_instance": "-1",
        "from": {"id": chat_id, "is_bot": False, "first_name": "Sam"}, "data": data,
        "message": {"message_id": 1, "date": int(time.time()), "text": "...",
                    "chat": {"id": chat_id, "type": "private"}}}}


def telegram_post(srv, payload: dict, secret: str | None = TG_SECRET) -> requests.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    return requests.post(f"{srv.rasa_url}/webhooks/telegram/webhook", json=payload,
                         headers=headers, timeout=60)


def telegram(srv, standin, chat_id: int, payload: dict) -> list[dict]:
    before = len(standin.messages("telegram", str(chat_id)))
    response = telegram_post(srv, payload)
    assert response.status_code == 200, response.text
    return standin.messages("telegram", str(chat_id))[before:]


def new_chat() -> int:
    return 10 ** 9 + secrets.randbelow(10 ** 8)


def test_telegram_webhook_is_set_with_the_secret_token(srv, standin):
    calls = standin.calls("telegram", "setWebhook")
    assert calls, "the webhook is set when the server starts"
    assert calls[-1].fields["secret_token"] == TG_SECRET
    assert calls[-1].fields["url"] == f"{srv.rasa_url}/webhooks/telegram/webhook"


def test_telegram_answer_has_an_inline_keyboard_and_a_press_is_understood(srv, standin):
    chat = new_chat()
    sent = telegram(srv, standin, chat, update(chat, "I shouted at my son and he cried"))
    assert sent and all(len(m["text"]) <= 4096 for m in sent)
    keyboards = [m for m in sent if m.get("reply_markup")]
    assert keyboards, "buttons become an inline keyboard"
    import json
    rows = json.loads(keyboards[-1]["reply_markup"])["inline_keyboard"]
    payload = rows[0][0]["callback_data"]
    assert payload.startswith("/") and len(payload.encode()) <= 64

    pressed = telegram(srv, standin, chat, button_press(chat, payload))
    assert pressed, "the button press is answered"
    assert user_intents(srv, str(chat))[-1] == payload.lstrip("/")
    assert standin.calls("telegram", "answerCallbackQuery"), "the button's spinner stops"


def test_telegram_crisis_and_start(srv, standin):
    chat = new_chat()
    greeting = telegram(srv, standin, chat, update(chat, "/start"))
    assert greeting and user_intents(srv, str(chat)) == ["greet"]
    crisis = " ".join(m["text"] for m in telegram(
        srv, standin, chat, update(chat, "I had thoughts of shaking him to make the crying stop")))
    assert "emergency" in crisis.lower() or "999" in crisis or "911" in crisis, crisis


def test_telegram_update_without_the_secret_is_refused(srv, standin):
    chat = new_chat()
    assert telegram_post(srv, update(chat, "hello"), secret=None).status_code == 403
    assert telegram_post(srv, update(chat, "hello"), secret="wrong").status_code == 403
    time.sleep(0.5)
    assert standin.messages("telegram", str(chat)) == []
    assert [e for e in tracker(srv, str(chat))["events"] if e["event"] == "user"] == []


def test_telegram_duplicate_update_is_answered_once(srv, standin):
    chat, uid = new_chat(), next(_ids)
    assert telegram(srv, standin, chat, update(chat, "hello", update_id=uid))
    assert telegram(srv, standin, chat, update(chat, "hello", update_id=uid)) == []
    assert user_intents(srv, str(chat)).count("greet") == 1


def test_telegram_bad_input(srv, standin):
    assert telegram_post(srv, {"not": "an update"}).status_code == 400
    response = requests.post(f"{srv.rasa_url}/webhooks/telegram/webhook", data="{oops",
                             headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                                      "Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400
    chat = new_chat()
    sticker = update(chat, "x")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "a", "file_unique_id": "b", "width": 1,
                                     "height": 1, "is_animated": False}
    answer = telegram(srv, standin, chat, sticker)
    assert answer and "in words" in answer[0]["text"]


def test_counsellor_reply_reaches_the_parent_on_telegram(srv, standin):
    chat = new_chat()
    started = " ".join(m["text"] for m in telegram(
        srv, standin, chat, update(chat, "I need to speak to a human being")))
    assert "counsellor" in started.lower() or "person" in started.lower(), started
    headers = {"Authorization": f"Bearer {COUNSELLOR}"}
    base = f"{srv.rasa_url}/webhooks/counsellor/api"
    handoffs = requests.get(f"{base}/handoffs", headers=headers, timeout=30).json()["handoffs"]
    [mine] = [h for h in handoffs if h["conversation_id"] == str(chat)]
    assert mine["channel"] == "telegram"
    requests.post(f"{base}/handoffs/{mine['id']}/claim", headers=headers, timeout=30)
    before = len(standin.messages("telegram", str(chat)))
    assert requests.post(f"{base}/handoffs/{mine['id']}/messages", headers=headers,
                         json={"text": "Hello, this is Alex."}, timeout=30).status_code == 200
    got = standin.wait_for("telegram", str(chat), before + 1, timeout=30)
    assert got[-1]["text"] == "Hello, this is Alex."
