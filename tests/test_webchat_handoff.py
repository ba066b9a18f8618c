"""A handoff in real browsers: a parent in the web chat, a counsellor in the console.

The parent writes a crisis message and accepts a person; the counsellor signs in to the
console page, claims the handoff, and writes; the words arrive in the parent's chat at
once (pushed over socket.io); the parent's reply shows in the console; the counsellor
hands back and the assistant greets the parent again. Screenshots go to
results/screenshots/.
"""

from __future__ import annotations

import secrets

import pytest
from selenium.webdriver.common.by import By

from tests.conftest import MODEL
from tests.servers import start
from tests.test_webchat import (
    bot_count,
    chromium,
    conversation,
    send,
    settled,
    shot,
    wait,
)

TOKEN = secrets.token_hex(16)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    assert MODEL.exists(), "no trained model"
    srv = start(tmp_path_factory.mktemp("webchat_handoff"),
                {"COUNSELLOR_TOKENS": f"sam:{TOKEN}", "HELPLINE_WEBHOOK_URL": ""})
    yield srv
    srv.stop_all()


@pytest.fixture(scope="module")
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def test_counsellor_takes_over_and_hands_back(servers, browser):
    browser.get(f"{servers.rasa_url}/webhooks/chat/")
    parent = browser.current_window_handle
    wait(browser, lambda d: settled(d, 0), message="no greeting")
    before = bot_count(browser)
    send(browser, "I want to kill myself")
    wait(browser, lambda d: settled(d, before, 2), message="no crisis answer")
    before = bot_count(browser)
    send(browser, "yes please")
    wait(browser, lambda d: "counsellor" in conversation(d), message="handoff not started")
    shot(browser, "20-handoff-parent-waiting")

    browser.switch_to.new_window("tab")
    console = browser.current_window_handle
    browser.get(f"{servers.rasa_url}/webhooks/counsellor/")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#login button").click()
    wait(browser, lambda d: "Signed in as sam" in d.find_element(By.ID, "me").text)
    item = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#handoffs li button"))
    assert "socketio" in item.text and "waiting" in item.text
    item.click()
    wait(browser, lambda d: "I want to kill myself" in d.find_element(By.ID, "transcript").text)
    wait(browser, lambda d: d.find_element(By.ID, "claim").is_enabled())
    browser.find_element(By.ID, "claim").click()
    box = wait(browser, lambda d: d.find_element(By.ID, "text") if
               d.find_element(By.ID, "text").is_enabled() else None)
    box.send_keys("Hi, I'm Sam from the helpline. I'm here with you now.")
    browser.find_element(By.ID, "send").click()
    shot(browser, "21-handoff-console")

    browser.switch_to.window(parent)
    wait(browser, lambda d: "I'm Sam from the helpline" in conversation(d),
         message="the counsellor's message did not reach the web chat")
    send(browser, "thank you, i'm scared")
    status = browser.find_element(By.ID, "chat-status").text
    assert "counsellor will answer" in status and "assistant is writing" not in status, status
    shot(browser, "22-handoff-parent-with-counsellor")

    browser.switch_to.window(console)
    wait(browser, lambda d: "thank you, i'm scared" in d.find_element(By.ID, "transcript").text,
         message="the parent's reply did not reach the console")
    browser.find_element(By.ID, "close").click()
    wait(browser, lambda d: "Handed back" in d.find_element(By.ID, "title").text)

    browser.switch_to.window(parent)
    wait(browser, lambda d: "handed the chat back" in conversation(d),
         message="no re-entry message in the web chat")
    before = bot_count(browser)
    send(browser, "I yelled at my son this morning")
    wait(browser, lambda d: settled(d, before, 2), message="the assistant did not answer again")
    shot(browser, "23-handoff-assistant-back")
