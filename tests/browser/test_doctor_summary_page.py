"""The summary for the doctor in a real headless Chromium against the real bot (issue 15): a conversation through
the widget on the demo portal, then the printable page the bot builds from what it stored.

Expected texts come from the curated content (bot/content/*.yml); the page itself is checked as a patient
sees it, as it prints (print media, PDF) and with axe.
"""

import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import yaml
from playwright.sync_api import Page, expect
from test_widget import (
    SIDE_EFFECTS_Q,
    answer_of,
    ask,
    conversation_id,
    deep_active,
    open_widget,
    run_axe,
    topic_of_question,
    topics,
    wait_for_greeting,
)

from bot.core.answers import ReplyBuilder
from bot.tools.client import RestClient

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "bot" / "content"
SUMMARY_TEXT = yaml.safe_load((CONTENT / "doctor_summary.yml").read_text(encoding="utf-8"))
SAFETY = yaml.safe_load((CONTENT / "messages.yml").read_text(encoding="utf-8"))["safety"]
DOC_LINK = "Summary for my doctor (opens in a new tab)"
# Typed by the patient: shown as these characters, never as markup.
TYPED = "how long does an <b>infusion</b> take & can I drive home?"
PDF_PAGES = re.compile(rb"/Type\s*/Page(?!s)")


def header_link(page: Page):
    return page.locator(".hd a")


def ask_and_wait(page: Page, text: str) -> None:
    """Ask, then wait for the bot's reply to be shown."""
    replies = page.locator(".log .m[data-kind]")
    before = replies.count()
    ask(page, text)
    expect(replies).to_have_count(before + 1)


def fetch(url: str):
    """(status, headers, body) of a GET, without following the page's links."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def header_layout(page: Page):
    return page.evaluate("""() => {
        const r = document.querySelector('ivig-chat-widget').shadowRoot;
        const box = e => { const b = e.getBoundingClientRect(); return {x: b.left, y: b.top, w: b.width, h: b.height,
                           right: b.right, bottom: b.bottom, name: e.getAttribute('aria-label') || e.textContent.trim()}; };
        return {link: box(r.querySelector('.hd a')), others: [...r.querySelectorAll('.hd h2, .hd button')].map(box),
                w: innerWidth, h: innerHeight};
    }""")


def overlaps(a, b) -> bool:
    return a["x"] < b["right"] - 0.5 and b["x"] < a["right"] - 0.5 and a["y"] < b["bottom"] - 0.5 and b["y"] < a["bottom"] - 0.5


# ---------------------------------------------------------------- tests


def test_a_real_conversation_becomes_a_printable_summary(page: Page, context, demo_server, artifacts):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask_and_wait(page, SIDE_EFFECTS_Q)
    side_effects = answer_of(page, "side_effects")
    chip = side_effects.locator(".chips button").first
    tapped = chip.inner_text().strip()
    chip.click()
    answer_of(page, topic_of_question(tapped))
    ask_and_wait(page, TYPED)

    # "summary" gets a reply with the link to the page (and the safety message, no thumbs), and is not stored.
    ask(page, "summary")
    reply = answer_of(page, "doctor_summary")
    sender = conversation_id(page)
    url = f"{demo_server.bot_url}/summary/{sender}"
    in_reply = reply.get_by_role("link", name=DOC_LINK)
    expect(in_reply).to_have_attribute("href", url)
    expect(in_reply).to_have_attribute("target", "_blank")
    expect(reply.locator(".safe")).to_contain_text("medical supervision")
    expect(reply.locator(".fb")).to_have_count(0)
    expect(header_link(page)).to_have_attribute("href", url)

    # The header link, reached with the keyboard from "Start over", opens the page in a new tab.
    errors = []
    context.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.get_by_role("button", name="Start over").focus()
    page.keyboard.press("Tab")
    assert deep_active(page)["label"] == DOC_LINK
    with context.expect_page() as opened:
        page.keyboard.press("Enter")
    summary = opened.value
    summary.wait_for_load_state()
    assert summary.url == url

    # What the bot stored, in order, in the patient's words (the tapped question as its title).
    questions = [q.strip() for q in summary.locator(".turns .q").all_inner_texts()]
    assert questions == [SIDE_EFFECTS_Q, tapped, TYPED], questions
    assert summary.locator(".turns b").count() == 0
    expect(summary.locator('.turns [data-topic="side_effects"] .a')).to_contain_text(topics()["side_effects"]["short"].strip())
    expect(summary.locator(".safety")).to_contain_text(SAFETY)
    sources = summary.locator("#sources ~ ol a")
    assert sources.count() >= 1
    hrefs = [sources.nth(i).get_attribute("href") for i in range(sources.count())]
    assert all(h.startswith("https://") for h in hrefs) and len(set(hrefs)) == len(hrefs), hrefs
    assert 3 <= summary.locator("#ask-doctor ~ ul li").count() <= 5
    expect(summary.locator("h1")).to_have_text(SUMMARY_TEXT["page"]["title"])
    expect(summary.locator("header")).to_contain_text(SUMMARY_TEXT["page"]["date"])

    # Its own print script runs under its Content-Security-Policy.
    summary.evaluate("() => { window.print = () => { window.printed = true; }; }")
    summary.get_by_role("button", name=SUMMARY_TEXT["page"]["print"]).click()
    assert summary.evaluate("() => window.printed === true")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    summary.locator("body").screenshot(path=str(artifacts / "doctor-summary.png"))  # the README's picture

    # Printed: no button, readable 11pt type, each link followed by its address, at most two A4 or Letter pages.
    summary.emulate_media(media="print")
    printed = summary.evaluate("""() => ({
        button: getComputedStyle(document.getElementById('print')).display,
        size: getComputedStyle(document.body).fontSize,
        after: getComputedStyle(document.querySelector('#sources ~ ol a'), '::after').content,
        text: document.body.innerText,
    })""")
    assert printed["button"] == "none" and printed["size"] == "14.6667px", printed
    assert hrefs[0] in printed["after"], printed["after"]
    for question in (SIDE_EFFECTS_Q, tapped, TYPED, SAFETY):
        assert question in printed["text"]
    for paper in ("A4", "Letter"):
        pdf = summary.pdf(format=paper)
        assert pdf.startswith(b"%PDF") and 1 <= len(PDF_PAGES.findall(pdf)) <= 2, paper


def test_the_summary_link_is_labelled_44_px_and_follows_start_over(new_page, demo_server, artifacts):
    for viewport in ({"width": 1280, "height": 800}, {"width": 390, "height": 844}, {"width": 320, "height": 256}):
        page = new_page(viewport=viewport)
        open_widget(page, demo_server.url)
        wait_for_greeting(page)
        link = page.get_by_role("link", name=DOC_LINK)
        expect(link).to_be_visible()
        page.screenshot(path=str(artifacts / f"widget-summary-link-{viewport['width']}x{viewport['height']}.png"))
        layout = header_layout(page)
        box = layout["link"]
        assert box["w"] >= 44 and box["h"] >= 44, layout
        assert not [other["name"] for other in layout["others"] if overlaps(box, other)], layout
        assert box["right"] <= layout["w"] and box["bottom"] <= layout["h"], layout
        first = conversation_id(page)
        page.get_by_role("button", name="Start over").click()
        page.get_by_role("button", name="Yes, clear it").click()
        wait_for_greeting(page)
        assert conversation_id(page) != first
        expect(link).to_have_attribute("href", re.compile(re.escape(conversation_id(page)) + "$"))


def test_the_summary_page_passes_axe(browser, rasa_stack, axe_script):
    sender = str(uuid.uuid4())
    client = RestClient(rasa_stack.rasa_url)
    for message in ("/greeting", SIDE_EFFECTS_Q, "my chest hurts and I can't breathe", "is IVIG proven to work?"):
        client.send(sender, message)
    for viewport, scheme in (({"width": 1280, "height": 800}, "light"), ({"width": 390, "height": 844}, "dark")):
        # axe is injected as a script tag, which the page's policy refuses: bypassed for this scan only.
        context = browser.new_context(viewport=viewport, color_scheme=scheme, bypass_csp=True)
        try:
            page = context.new_page()
            page.goto(f"{rasa_stack.rasa_url}/summary/{sender}")
            expect(page.locator('.turns [data-topic="emergency"] .a.urgent')).to_be_visible()
            assert run_axe(page, axe_script) == []
            every_impact = page.evaluate("async () => (await axe.run(document)).violations.map(v => v.id)")
            assert every_impact == [], every_impact
            assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
        finally:
            context.close()


def test_unknown_or_malformed_ids_get_the_same_404(rasa_stack):
    known = str(uuid.uuid4())
    RestClient(rasa_stack.rasa_url).send(known, "what is IVIG?")
    found, headers, page = fetch(f"{rasa_stack.rasa_url}/summary/{known}")
    assert found == 200 and b"what is IVIG?" in page and headers["Cache-Control"] == "no-store"
    _, _, not_found = fetch(f"{rasa_stack.rasa_url}/summary/{uuid.uuid4()}")
    for conversation in (str(uuid.uuid4()), uuid.uuid4().hex, "patient-1", known.upper(), known + "0", "x" * 200, "%2e%2e%2fhealth%2flive"):
        status, headers, body = fetch(f"{rasa_stack.rasa_url}/summary/{conversation}")
        assert (status, body) == (404, not_found), conversation
        assert known.encode() not in body and conversation.encode() not in body
        assert headers["Cache-Control"] == "no-store" and "default-src 'none'" in headers["Content-Security-Policy"]
    # The id is the key to the page: the server does not write it to its log.
    assert known not in (rasa_stack.config.log_dir / "rasa.log").read_text(errors="replace")


def test_asking_for_the_summary_over_rest_and_right_after_an_urgent_reply(rasa_stack):
    client, sender = RestClient(rasa_stack.rasa_url), str(uuid.uuid4())
    client.send(sender, "/greeting")
    asked = client.send(sender, "Summary for my doctor")
    assert asked.kind == "summary" and asked.payload["summary_path"] == f"/summary/{sender}" and asked.has_safety
    # In the turns after an urgent reply the request goes to the bot as usual: its reminder comes first.
    client.send(sender, "my chest hurts and I can't breathe")
    asked = client.send(sender, "summary")
    assert asked.kind != "summary" and asked.text.startswith(ReplyBuilder().reminder("emergency")), asked.text
