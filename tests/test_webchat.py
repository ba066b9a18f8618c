"""The chat page in a real headless Chromium against the real Rasa + action servers.

One parent's visit, step by step (the tests share the page and run in order): the page
greets, a concern gets the repair script as short bubbles and quick replies that work
from the keyboard, the parent's own text is shown as text (never HTML), a crisis message
gets the helplines with tel: links, a reload keeps the conversation (in the page and in
Rasa's tracker), the connection drops and comes back by itself, and the page fits a
375 px phone. Screenshots of each step go to results/screenshots/ (git-ignored).

The browser is Debian's Chromium driven by its own chromedriver (no Selenium Manager,
nothing downloaded); the page is opened through a TCP proxy so the test can cut the
connection.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import MODEL, ROOT
from tests.servers import start
from tests.tcp_proxy import TcpProxy

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1024,800"]
SHOTS = ROOT / "results" / "screenshots"
INJECTION = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    assert MODEL.exists(), "no trained model"
    srv = start(tmp_path_factory.mktemp("webchat"))
    yield srv
    srv.stop_all()


@pytest.fixture(scope="module")
def proxy(servers):
    tcp = TcpProxy(int(servers.rasa_url.rsplit(":", 1)[1]))
    yield tcp
    tcp.close()


def chromium() -> webdriver.Chrome:
    """Debian's headless Chromium through its own chromedriver (nothing downloaded)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:  # a failure, not a skip: `make test` must run the browser tests
        pytest.fail(f"{', '.join(missing)} missing: run `make install` "
                    "(apt-get install -y chromium chromium-driver)")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return driver


@pytest.fixture(scope="module")
def page(proxy):
    driver = chromium()
    driver.get(f"http://127.0.0.1:{proxy.port}/webhooks/chat/")
    yield driver
    driver.quit()


def shot(driver, name: str) -> None:
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def wait(driver, condition, timeout: float = 45, message: str = ""):
    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        lambda d: condition(d), message)


def conversation(driver) -> str:
    found = driver.find_elements(By.ID, "rw-messages")
    return found[0].text if found else ""


def status(driver) -> str:
    return driver.find_element(By.ID, "chat-status").text


def bot_count(driver) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "#rw-messages .rw-response"))


def settled(driver, before: int, minimum: int = 1) -> bool:
    """New bot bubbles arrived and the widget has shown them all (quick replies or quiet)."""
    if bot_count(driver) < before + minimum:
        return False
    if driver.find_elements(By.CSS_SELECTOR, ".rw-typing-indication"):
        return False
    return "writing" not in status(driver)


def send(driver, text: str) -> None:
    box = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".rw-new-message"))
    wait(driver, lambda d: box.is_enabled(), message="input stays disabled")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def test_page_opens_and_greets(page):
    assert "Gentle Parenting Support" in page.title
    about = page.find_element(By.CSS_SELECTOR, ".about").text
    assert "not a replacement for professional help" in about
    assert page.find_elements(By.CSS_SELECTOR, '.about a[href="tel:999"]')
    wait(page, lambda d: settled(d, 0), message="no greeting")
    shot(page, "01-greeting")


def test_concern_gets_repair_script_in_short_bubbles(page):
    before = bot_count(page)
    send(page, "I yelled at my son this morning")
    wait(page, lambda d: "writing" in status(d), timeout=5, message="no typing indicator")
    shot(page, "02-typing")
    wait(page, lambda d: settled(d, before, 3) and d.find_elements(By.CSS_SELECTOR, ".rw-reply"),
         timeout=60, message="no answer with quick replies")
    text = conversation(page)
    assert "I yelled at my son this morning" in text
    assert "Repair" in text and "sorry" in text, text
    bubbles = page.find_elements(By.CSS_SELECTOR, "#rw-messages .rw-response")[before:]
    assert len(bubbles) >= 3 and all(len(b.text) <= 300 for b in bubbles)
    shot(page, "03-repair-script")


def test_quick_reply_works_from_the_keyboard(page):
    replies = page.find_elements(By.CSS_SELECTOR, ".rw-reply")
    assert replies and all(r.get_attribute("tabindex") == "0" for r in replies)
    before = bot_count(page)
    chosen = replies[0]
    title = chosen.text
    page.execute_script("arguments[0].focus()", chosen)
    assert page.switch_to.active_element == chosen
    chosen.send_keys(Keys.ENTER)
    wait(page, lambda d: settled(d, before), timeout=60, message="quick reply not answered")
    clients = page.find_elements(By.CSS_SELECTOR, "#rw-messages .rw-client")
    assert clients[-1].text == title
    shot(page, "04-quick-reply")


def test_parent_text_is_shown_as_text_not_html(page):
    before = bot_count(page)
    send(page, INJECTION)
    wait(page, lambda d: settled(d, before), timeout=60, message="no answer")
    clients = page.find_elements(By.CSS_SELECTOR, "#rw-messages .rw-client")
    assert clients[-1].text == INJECTION
    assert not page.find_elements(By.CSS_SELECTOR, "#rw-messages img[src='x']")
    with pytest.raises(NoAlertPresentException):
        page.switch_to.alert.text  # noqa: B018
    shot(page, "05-injection-as-text")


def test_crisis_message_gets_helplines_as_tel_links(page):
    before = bot_count(page)
    send(page, "I want to kill myself")
    wait(page, lambda d: settled(d, before), timeout=60, message="no crisis answer")
    links = page.find_elements(By.CSS_SELECTOR, "#rw-messages .rw-response a[href^='tel:']")
    hrefs = {a.get_attribute("href") for a in links}
    assert {"tel:999", "tel:911"} <= hrefs, hrefs
    shot(page, "06-crisis")
    before = bot_count(page)
    send(page, "I'm in the UK")
    wait(page, lambda d: "tel:116123" in {a.get_attribute("href") for a in d.find_elements(
        By.CSS_SELECTOR, "#rw-messages a[href^='tel:']")}, timeout=60,
        message="no Samaritans tel: link after the country")
    wait(page, lambda d: settled(d, before), timeout=30)
    shot(page, "07-crisis-uk")


def test_reload_keeps_the_conversation(page, servers):
    before_text = conversation(page)
    session_id = page.execute_script(
        "return JSON.parse(sessionStorage.getItem('chat_session') || '{}').session_id")
    page.refresh()
    wait(page, lambda d: "I yelled at my son this morning" in conversation(d),
         message="history lost on reload")
    wait(page, lambda d: "116 123" in conversation(d), message="crisis answer lost on reload")
    assert len(conversation(page)) >= 0.9 * len(before_text)
    assert session_id and len(session_id) == 32
    tracker = requests.get(f"{servers.rasa_url}/conversations/{session_id}/tracker",
                           params={"token": servers.token}, timeout=10).json()
    said = [e.get("text") for e in tracker["events"] if e.get("event") == "user"]
    assert "I yelled at my son this morning" in said
    assert tracker["latest_input_channel"] == "socketio"
    before = bot_count(page)
    send(page, "thank you")
    wait(page, lambda d: settled(d, before), timeout=60, message="no answer after reload")
    shot(page, "08-after-reload")


def test_connection_drop_shows_notice_and_reconnects(page, proxy):
    proxy.drop()
    wait(page, lambda d: "Connection lost" in status(d), timeout=30,
         message="no notice when the connection dropped")
    shot(page, "09-connection-lost")
    time.sleep(2)
    proxy.resume()
    wait(page, lambda d: "Connection lost" not in status(d), timeout=30,
         message="did not reconnect")
    before = bot_count(page)
    send(page, "my toddler has huge tantrums")
    wait(page, lambda d: settled(d, before), timeout=60, message="no answer after reconnecting")
    shot(page, "10-reconnected")


CONTRAST_JS = """
const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
const lum = c => { const v = c.map(x => x / 255).map(
  x => x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4));
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
return Array.from(document.querySelectorAll(arguments[0])).map(el => {
  const st = getComputedStyle(el), a = lum(rgb(st.color)), b = lum(rgb(st.backgroundColor));
  return [el.className, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
"""


def test_text_contrast_is_readable(page):
    """WCAG AA (4.5:1) for bubbles, quick replies and the page header, as rendered."""
    selectors = "#rw-messages .rw-response, #rw-messages .rw-client, .rw-reply, .page-header"
    ratios = page.execute_script(CONTRAST_JS, selectors)
    assert len(ratios) >= 3
    low = [(name, round(ratio, 1)) for name, ratio in ratios if ratio < 4.5]
    assert not low, low


def test_phone_width_layout(page):
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    try:
        page.refresh()
        wait(page, lambda d: "I yelled at my son" in conversation(d))
        size = page.execute_script(
            "return [document.documentElement.clientWidth, document.documentElement.scrollWidth]")
        assert size[0] == 375 and size[1] <= 375, size
        box = page.find_element(By.CSS_SELECTOR, ".rw-new-message")
        rect = page.execute_script("return arguments[0].getBoundingClientRect().toJSON()", box)
        assert rect["left"] >= 0 and rect["right"] <= 375 and rect["bottom"] <= 740, rect
        for bubble in page.find_elements(By.CSS_SELECTOR, "#rw-messages .rw-response"):
            right = page.execute_script(
                "return arguments[0].getBoundingClientRect().right", bubble)
            assert right <= 375
        shot(page, "11-phone-375px")
    finally:
        page.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_page_headers_and_only_known_files(servers):
    base = f"{servers.rasa_url}/webhooks/chat/"
    page = requests.get(base, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert requests.get(base + "webchat.js", timeout=10).status_code == 200
    for name in ("credentials.yml", "..%2F..%2Fcredentials.yml", "package.json"):
        assert requests.get(base + name, timeout=10).status_code == 404, name


def test_socket_refuses_other_websites(servers):
    url = f"{servers.rasa_url}/socket.io/?EIO=4&transport=polling"
    assert requests.get(url, headers={"Origin": "https://evil.example"}, timeout=10) \
        .status_code == 400
    assert requests.get(url, headers={"Origin": servers.rasa_url}, timeout=10).status_code == 200


def test_a_socket_cannot_write_into_another_conversation(servers):
    import socketio

    def session(wanted: str | None) -> tuple[socketio.Client, str]:
        client, confirmed = socketio.Client(), []
        client.on("session_confirm", confirmed.append)
        # websocket-client sends the server's own address as Origin, like the page does
        client.connect(servers.rasa_url, transports=["websocket"], socketio_path="/socket.io")
        client.emit("session_request", {"session_id": wanted})
        deadline = time.time() + 10
        while not confirmed and time.time() < deadline:
            time.sleep(0.1)
        return client, confirmed[0]

    parent, parent_id = session(None)
    other, other_id = session("1")  # not a long random id: a new one is issued
    try:
        assert len(parent_id) == 32 and len(other_id) == 32 and other_id != "1"
        got: list[dict] = []
        other.on("bot_uttered", got.append)
        other.emit("user_uttered", {"message": "hello", "session_id": parent_id})
        deadline = time.time() + 30
        while not got and time.time() < deadline:
            time.sleep(0.2)
        assert got, "the other socket got no answer in its own conversation"
        events = requests.get(f"{servers.rasa_url}/conversations/{parent_id}/tracker",
                              params={"token": servers.token}, timeout=10).json()["events"]
        assert not [e for e in events if e.get("event") == "user"]
    finally:
        parent.disconnect()
        other.disconnect()
