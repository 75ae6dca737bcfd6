"""The patient chat widget in a real headless Chromium, on the demo portal page, against the real bot.

The page is served by `python -m bot.widget.serve` on its own origin; the bot (Rasa + action server) runs on
another origin and must grant the page's origin in its CORS allow-list. Expected texts come from the curated
content (bot/content/*.yml), so the assertions check that the real answer of the right topic arrived.
"""

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List

import pytest
import yaml
from playwright.sync_api import Page, expect

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "bot" / "content"
ID_KEY = "ivig-chat-conversation-id"
# The widget's own copy of the safety message, shown in error and offline states.
BUILTIN_SAFETY = (
    "IVIG is a prescription treatment given only under medical supervision. This chat is "
    "education, not personal medical advice - please talk to your own doctor."
)
# What the demo page's snippet configures (bot/widget/demo/index.html).
DEMO_CLINIC = "Riverside Long COVID Clinic"
DEMO_CONTACT = "call the nurse line, Monday to Friday, 9am to 5pm"
DEMO_TEL = "tel:01632960123"
SIDE_EFFECTS_Q = "What are the side effects of IVIG?"


def topics() -> Dict[str, dict]:
    return yaml.safe_load((CONTENT / "topics.yml").read_text(encoding="utf-8"))["topics"]


def first_sentence(topic_id: str) -> str:
    answer = topics()[topic_id]["answer"].strip()
    return re.split(r"(?<=[.!?])\s", answer, maxsplit=1)[0]


def plain_sentence(topic_id: str) -> str:
    """The first sentence of a topic's answer that has no clinic placeholder in it."""
    answer = topics()[topic_id]["answer"].strip()
    return next(x for x in re.split(r"(?<=[.!?])\s", answer) if "{" not in x)


def topic_of_question(question: str) -> str:
    for topic_id, topic in topics().items():
        if topic["question"] == question:
            return topic_id
    raise AssertionError(f"no topic has the question {question!r}")


# ---------------------------------------------------------------- helpers


def launcher(page: Page):
    return page.get_by_role("button", name="Ask about IVIG")


def panel(page: Page):
    return page.get_by_role("dialog", name="Questions about IVIG")


def resting_box(element) -> Dict[str, float]:
    """The element's box once its animations (the panel slides in from 12 px lower) have finished."""
    element.evaluate("e => Promise.all(e.getAnimations().map(a => a.finished))")
    return element.bounding_box()


def question_box(page: Page):
    return page.get_by_label("Your question")


def open_widget(page: Page, url: str) -> None:
    page.goto(url)
    launcher(page).click()
    expect(panel(page)).to_be_visible()


def wait_for_greeting(page: Page):
    chips = page.locator(".log .m .chips").first.get_by_role("button")
    expect(chips.first).to_be_visible()
    return chips


def ask(page: Page, text: str) -> None:
    question_box(page).fill(text)
    question_box(page).press("Enter")


def answer_of(page: Page, topic_id: str):
    """The latest bot message carrying `topic_id`, once it is shown."""
    msg = page.locator(f'.log .m[data-topic="{topic_id}"]').last
    expect(msg).to_be_visible()
    return msg


def conversation_id(page: Page) -> str:
    return page.evaluate(f"() => sessionStorage.getItem('{ID_KEY}')")


def deep_active(page: Page) -> Dict[str, str]:
    """The focused element, looking inside the widget's shadow root."""
    return page.evaluate("""() => {
        let a = document.activeElement;
        while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
        if (!a) return {};
        const s = getComputedStyle(a);
        return {tag: a.tagName.toLowerCase(), id: a.id || '', cls: a.className || '',
                label: a.getAttribute('aria-label') || '', text: (a.textContent || '').trim(),
                inChips: !!a.closest('.chips'), outline: s.outlineStyle, outlineWidth: s.outlineWidth,
                boxShadow: s.boxShadow};
    }""")


def webhook_bodies(requests: List) -> List[dict]:
    return [json.loads(r.post_data) for r in requests if r.method == "POST" and r.url.endswith("/webhooks/rest/webhook")]


def run_axe(page: Page, axe_script: Path) -> List[dict]:
    page.add_script_tag(path=str(axe_script))
    violations = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map(n => JSON.stringify(n.target))}));
    }""")
    return [v for v in violations if v["impact"] in ("serious", "critical")]


# ---------------------------------------------------------------- tests


def test_demo_page_embeds_the_widget_with_one_snippet(page: Page, demo_server):
    page.goto(demo_server.url)
    snippet = page.locator('script[src="/widget/ivig-chat.js"]')
    expect(snippet).to_have_count(1)
    expect(snippet).to_have_attribute("data-bot-url", demo_server.bot_url)
    expect(launcher(page)).to_be_visible()
    expect(panel(page)).to_be_hidden()
    page_info = page.evaluate("""() => {
        const host = document.querySelector('ivig-chat-widget');
        const launch = host.shadowRoot.querySelector('.launch');
        return {
            styles: document.querySelectorAll('style, link[rel=stylesheet]').length,
            added: [...document.body.children].filter(e => e.tagName !== 'SCRIPT').map(e => e.tagName.toLowerCase()),
            bodyFont: getComputedStyle(document.body).fontFamily,
            launcherTransform: getComputedStyle(launch).textTransform,
            launcherFontSize: getComputedStyle(launch).fontSize,
            launcherBorder: getComputedStyle(launch).borderTopStyle,
        };
    }""")
    # The widget adds one element (its shadow host) and no style to the page...
    assert page_info["styles"] == 1, page_info
    assert page_info["added"] == ["header", "main", "footer", "ivig-chat-widget"], page_info
    assert "Georgia" in page_info["bodyFont"], page_info
    # ...and the page's broad rules (button{text-transform:uppercase;border:dashed}, html{font-size:62.5%})
    # do not reach into the widget.
    assert page_info["launcherTransform"] == "none", page_info
    assert page_info["launcherFontSize"] == "16px", page_info
    assert page_info["launcherBorder"] == "solid", page_info


def test_ask_a_question_shows_answer_citation_and_safety(page: Page, demo_server, artifacts):
    open_widget(page, demo_server.url)
    # Focus moves into the panel, onto the question box.
    assert deep_active(page)["id"] == "ivig-input"
    greeting = wait_for_greeting(page)
    expect(page.locator('.log .m[data-topic="greeting"]')).to_contain_text(first_sentence("greeting"))
    assert greeting.count() >= 2

    ask(page, SIDE_EFFECTS_Q)
    expect(page.locator(".log .m.u").last).to_contain_text(SIDE_EFFECTS_Q)
    msg = answer_of(page, "side_effects")
    expect(msg).to_contain_text(first_sentence("side_effects"))
    # "- " lines are shown as a bulleted list, as text.
    expect(msg.locator(".b > ul > li").first).to_be_visible()

    # The safety message: in full in its own, visually distinct box in the greeting; on this answer in the
    # same box as one line (the full words are there for screen readers), once.
    expect(page.locator('.log .m[data-topic="greeting"] .safe:not(.s)')).to_contain_text("medical supervision")
    safety = msg.locator(".safe")
    expect(safety).to_be_visible()
    expect(safety).to_have_count(1)
    expect(safety).to_contain_text("medical supervision")
    assert safety.locator("[aria-hidden=true]").inner_text().count("medical supervision") == 1
    bg = safety.evaluate("e => getComputedStyle(e).backgroundColor")
    bubble_bg = msg.locator(".b").evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg != bubble_bg

    # Citations: https links from the payload, opening in a new tab without opener.
    links = msg.locator(".cites a")
    expect(links.first).to_be_visible()
    for i in range(links.count()):
        link = links.nth(i)
        assert link.get_attribute("href").startswith("https://")
        assert link.get_attribute("target") == "_blank"
        assert set(link.get_attribute("rel").split()) >= {"noopener", "noreferrer"}
    # Follow-up questions and the thumbs come with the answer.
    expect(msg.locator(".chips button").first).to_be_visible()
    expect(msg.get_by_role("button", name="This answer was helpful")).to_be_visible()

    # The live region announces the new bot message.
    live = page.locator(".w > .panel > [aria-live=polite]")
    expect(live).to_contain_text(first_sentence("side_effects"))

    # The picture shows the end of the answer: safety box, source, follow-ups, thumbs.
    safety.evaluate("""e => { const log = e.closest('.log');
        log.scrollTop += e.getBoundingClientRect().top - log.getBoundingClientRect().top - 40; }""")
    page.wait_for_timeout(300)
    page.screenshot(path=str(artifacts / "widget-open.png"))


def test_suggested_question_button(page: Page, demo_server):
    open_widget(page, demo_server.url)
    chip = wait_for_greeting(page).first
    title = chip.inner_text().strip()
    topic_id = topic_of_question(title)
    chip.click()
    expect(page.locator(".log .m.u").last).to_contain_text(title)
    msg = answer_of(page, topic_id)
    expect(msg).to_contain_text(first_sentence(topic_id))
    expect(msg.locator(".safe")).to_contain_text("medical supervision")


def test_keyboard_only_conversation(page: Page, demo_server):
    page.goto(demo_server.url)
    expect(launcher(page)).to_be_visible()
    for _ in range(40):
        page.keyboard.press("Tab")
        active = deep_active(page)
        if "launch" in active.get("cls", ""):
            break
    else:
        pytest.fail("Tab never reached the chat launcher")
    # Visible focus on the launcher.
    assert active["outline"] != "none" or active["boxShadow"] != "none", active

    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    assert deep_active(page)["id"] == "ivig-input"
    wait_for_greeting(page)

    page.keyboard.type(SIDE_EFFECTS_Q)
    page.keyboard.press("Enter")
    answer_of(page, "side_effects")
    assert deep_active(page)["id"] == "ivig-input"

    # Shift+Tab back from the question box into the last answer's suggested questions, then Enter.
    for _ in range(15):
        page.keyboard.press("Shift+Tab")
        active = deep_active(page)
        if active.get("inChips"):
            break
    else:
        pytest.fail("Shift+Tab never reached a suggested question")
    assert active["outline"] != "none", active
    chip_title = active["text"]
    page.keyboard.press("Enter")
    expect(page.locator(".log .m.u").last).to_contain_text(chip_title)
    answer_of(page, topic_of_question(chip_title))

    # Escape closes the panel and gives focus back to the launcher; Enter opens it again, history kept.
    page.keyboard.press("Escape")
    expect(panel(page)).to_be_hidden()
    assert "launch" in deep_active(page)["cls"]
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    assert deep_active(page)["id"] == "ivig-input"
    expect(page.locator(".log .m.u")).to_have_count(2)


def test_xss_payload_is_shown_as_plain_text(page: Page, demo_server, page_events):
    payload = (
        '<img src=x onerror="window.__ivigXss=1;alert(1)"><script>window.__ivigXss=2;alert(2)</script>'
        '<b id="ivig-injected">bold</b><a href="javascript:alert(3)">link</a>'
    )
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    before = page.locator(".log .m:not(.u)").count()
    ask(page, payload)
    user = page.locator(".log .m.u .b").last
    expect(user).to_contain_text(payload)
    assert user.evaluate("e => e.textContent") == "You: " + payload
    # The bot answers (whatever it makes of it); its reply is also text only.
    expect(page.locator(".log .m:not(.u):not(.typing)")).to_have_count(before + 1)
    page.wait_for_timeout(500)
    injected = page.evaluate("""() => {
        const root = document.querySelector('ivig-chat-widget').shadowRoot;
        return {
            inWidget: root.querySelectorAll('img, script:not([src]), b, #ivig-injected, a[href^="javascript"]').length,
            inPage: document.querySelectorAll('img, #ivig-injected').length,
            flag: window.__ivigXss === undefined ? null : window.__ivigXss,
        };
    }""")
    assert injected == {"inWidget": 0, "inPage": 0, "flag": None}
    assert page_events["dialogs"] == []


def test_bot_unreachable_shows_error_with_safety_and_contact(page: Page, unreachable_demo_server, axe_script):
    open_widget(page, unreachable_demo_server.url)
    error = page.locator(".log .m.err")
    expect(error).to_have_count(1)
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("can't be reached")
    expect(error.locator(".safe")).to_contain_text(BUILTIN_SAFETY)
    expect(error).to_contain_text(f"contact {DEMO_CLINIC}: {DEMO_CONTACT}")
    expect(error.get_by_role("link", name="01632 960 123")).to_have_attribute("href", DEMO_TEL)

    # Retry fails again: still exactly one error bubble, not silence and not a pile, and focus is on its
    # "Try again" (not lost to the page).
    error.get_by_role("button", name="Try again").click()
    expect(page.locator(".log .typing")).to_have_count(0)
    expect(error).to_have_count(1)
    assert deep_active(page)["text"] == "Try again"

    # A typed question also ends in the error state, after the user's message: still one error block.
    ask(page, SIDE_EFFECTS_Q)
    expect(page.locator(".log .m.u")).to_contain_text(SIDE_EFFECTS_Q)
    expect(page.locator(".log .m.u + .m.err")).to_have_count(1)
    expect(error).to_have_count(1)
    assert run_axe(page, axe_script) == []


def test_emergency_reply_stands_out(page: Page, demo_server, axe_script, artifacts):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask(page, "my chest really hurts and I can't breathe")
    msg = answer_of(page, "emergency")
    # Announced assertively, and only the sentence that says what to do.
    expect(page.locator(".panel > [aria-live=assertive]")).to_have_text("Call 911 or your local emergency number now.")
    expect(page.locator(".panel > [aria-live=polite]")).to_have_text("")
    # One message (the bot's text comes in pieces), its action line alone in bold, a big call button under it.
    expect(msg.locator(".b")).to_have_count(1)
    expect(msg.locator("strong")).to_have_count(1)
    expect(msg.locator("strong")).to_have_text(re.compile(r"^Call 911 or your local emergency number now\. "))
    call = msg.get_by_role("link", name="Call 911", exact=True)
    expect(call).to_have_attribute("href", "tel:911")
    box = call.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44, box
    assert msg.locator(".calls").evaluate("c => [c.previousElementSibling.tagName, c.nextElementSibling.tagName]") == ["P", "UL"]
    # 911 in the text is a tap-to-call link too; the reply ends with its own urgent line, not the IVIG safety box
    expect(msg.locator('.urg a[href="tel:911"]')).to_be_visible()
    expect(msg.locator(".safe")).to_have_count(0)
    expect(msg.locator(".urg")).to_contain_text("cannot help in an emergency")
    border = msg.locator(".b").evaluate("e => getComputedStyle(e).borderTopWidth")
    assert border == "3px", border
    # No "was this helpful?" and no IVIG suggested questions on an emergency reply.
    expect(msg.locator(".fb")).to_have_count(0)
    expect(msg.locator(".chips")).to_have_count(0)
    page.screenshot(path=str(artifacts / "widget-emergency.png"))
    assert run_axe(page, axe_script) == []


def test_crisis_and_poisoning_replies_call_their_lines(page: Page, demo_server):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask(page, "everyone would be better off without me")
    msg = answer_of(page, "crisis")
    # The kind first line stays plain; only the line with what to do now is bold.
    assert msg.locator(".b > p").first.evaluate("p => getComputedStyle(p).fontWeight") == "400"
    expect(msg.locator("strong")).to_have_count(1)
    expect(msg.locator("strong")).to_contain_text("call or text 988")
    expect(msg.get_by_role("link", name="Call 988", exact=True)).to_have_attribute("href", "tel:988")
    expect(msg.get_by_role("link", name="Text 988", exact=True)).to_have_attribute("href", "sms:988")
    expect(msg.get_by_role("link", name="Call 911", exact=True)).to_have_attribute("href", "tel:911")
    expect(msg.locator(".safe")).to_have_count(0)
    expect(msg.locator(".chips")).to_have_count(0)
    expect(msg.locator(".fb")).to_have_count(0)
    alarm = page.locator(".panel > [aria-live=assertive]")
    expect(alarm).to_have_text(re.compile(r"^Please call or text 988 .* now\.$"))

    ask(page, "my son drank some bleach")
    msg = answer_of(page, "poisoning")
    expect(msg.get_by_role("link", name="Call 1-800-222-1222", exact=True)).to_have_attribute("href", "tel:18002221222")
    expect(msg.get_by_role("link", name="Call 911", exact=True)).to_be_visible()
    expect(msg.get_by_role("link", name="Text 988", exact=True)).to_be_visible()
    expect(msg.locator(".safe")).to_have_count(0)

    # In Spanish: the line in Spanish comes first, is marked Spanish, and is the one announced.
    ask(page, "me duele el pecho y no puedo respirar")
    msg = answer_of(page, "emergency")
    first = msg.locator(".b > p").first
    expect(first).to_have_attribute("lang", "es")
    expect(first.locator("strong")).to_contain_text("Llame ahora")
    expect(msg.locator(".b > p").nth(1)).not_to_have_attribute("lang", "es")
    expect(alarm).to_contain_text("Llame ahora")
    expect(alarm).to_have_attribute("lang", "es")


def cors_headers(bot_url: str, origin: str) -> Dict[str, str]:
    """The bot's answer to a browser's CORS preflight from `origin`."""
    req = urllib.request.Request(
        f"{bot_url}/webhooks/rest/webhook",
        method="OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as err:
        return {k.lower(): v for k, v in err.headers.items()}


def test_bot_cors_allows_the_demo_origin_only(page: Page, demo_server, foreign_demo_server):
    allowed = demo_server.url.rstrip("/")
    foreign = foreign_demo_server.url.rstrip("/")
    assert cors_headers(demo_server.bot_url, allowed).get("access-control-allow-origin") == allowed
    assert cors_headers(demo_server.bot_url, foreign).get("access-control-allow-origin") in (None, "")
    # In the browser, the page on the foreign origin cannot talk to the bot: the error state, not an answer.
    open_widget(page, foreign_demo_server.url)
    expect(page.locator(".log .m.err")).to_have_count(1)
    expect(page.locator(".log .m.err .safe")).to_contain_text(BUILTIN_SAFETY)
    expect(page.locator('.log .m[data-topic="greeting"]')).to_have_count(0)


def test_offline_then_retry_reaches_the_bot(page: Page, context, demo_server):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    context.set_offline(True)
    ask(page, SIDE_EFFECTS_Q)
    error = page.locator(".log .m.err")
    expect(error).to_contain_text("offline")
    expect(error.locator(".safe")).to_contain_text(BUILTIN_SAFETY)
    expect(error).to_contain_text(DEMO_CLINIC)
    context.set_offline(False)
    error.get_by_role("button", name="Try again").click()
    expect(error).to_have_count(0)
    answer_of(page, "side_effects")
    # Focus stayed in the conversation (the button removed itself), not on the page body.
    assert deep_active(page)["cls"] == "log"
    # The retry did not repeat the user's message.
    expect(page.locator(".log .m.u")).to_have_count(1)


def test_start_over(page: Page, demo_server):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask(page, SIDE_EFFECTS_Q)
    answer_of(page, "side_effects")
    old_id = conversation_id(page)
    assert old_id
    restarts = []
    page.on("request", lambda r: restarts.append(r) if '"/restart"' in (r.post_data or "") else None)

    # One tap does not wipe the conversation: it asks first, and Cancel (or Escape) keeps everything.
    page.get_by_role("button", name="Start over").click()
    confirm = page.get_by_text("Start a new conversation?")
    expect(confirm).to_be_visible()
    assert deep_active(page)["id"] == "ivig-ask"
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(confirm).to_be_hidden()
    assert deep_active(page)["text"] == "Start over"
    page.get_by_role("button", name="Start over").click()
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(panel(page)).to_be_visible()
    expect(page.locator('.log .m[data-topic="side_effects"]')).to_have_count(1)
    assert restarts == [] and conversation_id(page) == old_id

    with page.expect_request(lambda r: r.method == "POST" and '"/restart"' in (r.post_data or "")) as restart:
        page.get_by_role("button", name="Start over").click()
        page.get_by_role("button", name="Yes, clear it").click()
    assert json.loads(restart.value.post_data)["sender"] == old_id
    expect(page.locator(".log .m.u")).to_have_count(0)
    expect(page.locator('.log .m[data-topic="side_effects"]')).to_have_count(0)
    wait_for_greeting(page)
    new_id = conversation_id(page)
    assert new_id and new_id != old_id

    with page.expect_request(lambda r: r.method == "POST" and SIDE_EFFECTS_Q in (r.post_data or "")) as req:
        ask(page, SIDE_EFFECTS_Q)
    assert json.loads(req.value.post_data)["sender"] == new_id
    answer_of(page, "side_effects")


def feedback_count(rasa_stack, topic: str, rating: str) -> int:
    """What a clinic counts (`python -m bot.rasa_ext.conversations feedback`), read from the bot's tracker store."""
    from bot.rasa_ext.conversations import ConversationStore

    store = ConversationStore.sqlite(rasa_stack.config.tracker_db)
    return store.feedback_counts()[(topic, rating)] if store.exists() else 0


def test_thumbs_feedback_is_recorded_by_the_bot(page: Page, demo_server, rasa_stack):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    # The greeting is not an answer: no thumbs on it.
    expect(page.locator('.log .m[data-topic="greeting"] .fb')).to_have_count(0)
    ask(page, SIDE_EFFECTS_Q)
    msg = answer_of(page, "side_effects")
    up = msg.get_by_role("button", name="This answer was helpful")
    down = msg.get_by_role("button", name="This answer was not helpful")
    before = feedback_count(rasa_stack, "side_effects", "down")

    def is_feedback(resp):
        return resp.request.method == "POST" and "/feedback" in (resp.request.post_data or "")

    with page.expect_response(is_feedback) as info:
        down.click()
    resp = info.value
    assert resp.ok
    assert resp.json() == []
    body = json.loads(resp.request.post_data)
    assert body["sender"] == conversation_id(page)
    assert body["message"].startswith("/feedback{")
    assert json.loads(body["message"][len("/feedback") :]) == {"rating": "down", "feedback_topic": "side_effects"}
    expect(down).to_have_attribute("aria-pressed", "true")
    expect(up).to_have_attribute("aria-pressed", "false")
    expect(up).to_be_disabled()
    expect(msg).to_contain_text("Thanks for your feedback.")
    # The bot recorded it where a clinic counts it.
    for _ in range(50):
        if feedback_count(rasa_stack, "side_effects", "down") == before + 1:
            break
        page.wait_for_timeout(100)
    assert feedback_count(rasa_stack, "side_effects", "down") == before + 1


def test_privacy_only_a_session_conversation_id_is_stored(new_page, demo_server):
    page = new_page()
    sent = []
    page.on("request", lambda request: sent.append(request))
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask(page, SIDE_EFFECTS_Q)
    answer_of(page, "side_effects")
    stored = page.evaluate("""() => ({local: Object.keys(localStorage), session: Object.keys(sessionStorage),
                                      cookie: document.cookie})""")
    assert stored == {"local": [], "session": [ID_KEY], "cookie": ""}
    assert page.context.cookies() == []
    conv = conversation_id(page)
    assert {b["sender"] for b in webhook_bodies(sent)} == {conv}
    # The id lives for the browser session: the same tab keeps it across a reload...
    page.reload()
    expect(launcher(page)).to_be_visible()
    assert conversation_id(page) == conv
    # ...a new browser session gets a new one.
    other_page = new_page()
    other_page.goto(demo_server.url)
    expect(launcher(other_page)).to_be_visible()
    other = conversation_id(other_page)
    assert other and other != conv


def test_phone_sized_viewport(new_page, demo_server, artifacts):
    page = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(demo_server.url)
    launcher(page).tap()
    expect(panel(page)).to_be_visible()
    box = resting_box(panel(page))
    assert box == {"x": 0, "y": 0, "width": 390, "height": 844}, box
    wait_for_greeting(page)
    ask(page, SIDE_EFFECTS_Q)
    msg = answer_of(page, "side_effects")
    expect(msg.locator(".safe")).to_be_in_viewport()
    sizes = page.evaluate("""() => {
        const root = document.querySelector('ivig-chat-widget').shadowRoot;
        const log = root.querySelector('.log'), input = root.querySelector('input');
        const close = root.querySelector('.x').getBoundingClientRect();
        return {overflow: log.scrollWidth - log.clientWidth, inputFont: getComputedStyle(input).fontSize,
                close: [close.width, close.height]};
    }""")
    assert sizes["overflow"] <= 0, sizes
    assert sizes["inputFont"] == "16px", sizes  # no zoom-on-focus on phones
    assert min(sizes["close"]) >= 24, sizes
    page.screenshot(path=str(artifacts / "widget-phone.png"))
    # Full screen covers the page, so Tab cycles within the panel: from Send back to Start over.
    page.get_by_role("button", name="Send").focus()
    page.keyboard.press("Tab")
    assert deep_active(page)["text"] == "Start over"
    page.keyboard.press("Shift+Tab")
    assert deep_active(page)["text"] == "Send"
    page.get_by_role("button", name="Close chat").tap()
    expect(panel(page)).to_be_hidden()
    expect(launcher(page)).to_be_visible()


def test_accessibility_scan_closed_and_open(page: Page, demo_server, axe_script):
    page.goto(demo_server.url)
    expect(launcher(page)).to_be_visible()
    assert run_axe(page, axe_script) == []

    launcher(page).click()
    wait_for_greeting(page)
    ask(page, SIDE_EFFECTS_Q)
    msg = answer_of(page, "side_effects")
    msg.get_by_role("button", name="This answer was helpful").click()
    expect(msg).to_contain_text("Thanks for your feedback.")
    assert run_axe(page, axe_script) == []

    # Every control has an accessible name.
    unnamed = page.evaluate("""() => {
        const root = document.querySelector('ivig-chat-widget').shadowRoot;
        return [...root.querySelectorAll('button, input, a')].filter(e => {
            const label = e.getAttribute('aria-label') || e.textContent.trim() ||
                          (e.id && root.querySelector(`label[for="${e.id}"]`));
            return !label;
        }).length;
    }""")
    assert unnamed == 0


def test_respects_reduced_motion(new_page, demo_server):
    for motion, expected in (("reduce", "none"), ("no-preference", "in")):
        page = new_page(reduced_motion=motion)
        page.goto(demo_server.url)
        launcher(page).click()
        expect(panel(page)).to_be_visible()
        animation = panel(page).evaluate("e => getComputedStyle(e).animationName")
        assert animation == expected, (motion, animation)
