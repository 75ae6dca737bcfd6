"""The widget for a tired, light-sensitive patient on a phone (issue 14), in a real headless Chromium against the
real bot: the on-screen keyboard, landscape and short screens, zoom and reflow, long turns, focus and
announcements, target sizes, dark mode and forced colours, slow answers, host-page settings.

Phones are emulated (`is_mobile`, `has_touch`: `pointer: coarse`); an on-screen keyboard is simulated by shrinking
the viewport, as the visual viewport shrinks on a real phone; zoom is a smaller CSS viewport with a larger
device scale factor (200% of a 390 px phone is 195 CSS px). Screenshots are kept in tests/artifacts/.
"""

import re
from pathlib import Path

import yaml
from playwright.sync_api import Page, expect
from test_widget import (
    SIDE_EFFECTS_Q,
    answer_of,
    ask,
    deep_active,
    first_sentence,
    launcher,
    open_widget,
    panel,
    question_box,
    resting_box,
    run_axe,
    wait_for_greeting,
)

REPO = Path(__file__).resolve().parents[2]
MESSAGES = yaml.safe_load((REPO / "bot" / "content" / "messages.yml").read_text(encoding="utf-8"))
PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
LANDSCAPE = dict(viewport={"width": 844, "height": 390}, is_mobile=True, has_touch=True, device_scale_factor=2)


def in_widget(page: Page, body: str, arg=None):
    """Run `body` (a function body; `r` is the widget's shadow root, `arg` the argument) in the page."""
    return page.evaluate("(arg) => { const r = document.querySelector('ivig-chat-widget').shadowRoot; " + body + " }", arg)


def luminance(css_colour: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"[\d.]+", css_colour)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


LAYOUT = """
    const q = s => r.querySelector(s).getBoundingClientRect();
    const shown = e => e.getClientRects().length > 0;
    const over = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
                           a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
    const head = [...r.querySelectorAll('.hd h2, .hd button')].filter(shown).map(e => e.getBoundingClientRect());
    let overlaps = 0;
    head.forEach((a, i) => head.slice(i + 1).forEach(b => { if (over(a, b)) overlaps++; }));
    const inside = s => { const b = q(s); return b.width > 0 && b.left >= -0.5 && b.top >= -0.5 &&
                                              b.right <= innerWidth + 0.5 && b.bottom <= innerHeight + 0.5; };
    return {
        w: innerWidth, h: innerHeight, panel: [q('.panel').width, q('.panel').height],
        header: q('.hd').height, log: q('.log').height, overlaps,
        wide: [...r.querySelectorAll('.panel, .hd, .log, form, .b, .chips')]
                  .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.className),
        onScreen: Object.fromEntries(['#ivig-input', 'form button', '.x'].map(s => [s, inside(s)])),
        headerShown: shown(r.querySelector('.hd')),
    };
"""


# ---------------------------------------------------------------- 2. the phone keyboard


def test_phone_open_and_send_keep_the_keyboard_down(new_page, demo_server, artifacts):
    page = new_page(**PHONE)
    page.goto(demo_server.url)
    launcher(page).tap()
    chips = wait_for_greeting(page)
    # Focus goes to the dialog's heading, not to the text box (which would raise the keyboard).
    active = deep_active(page)
    assert active["tag"] == "h2" and active["text"] == "Questions about IVIG", active
    # The greeting's suggested questions are all on screen, above the text box, without scrolling.
    log_box = page.locator(".log").bounding_box()
    assert chips.count() >= 2
    for i in range(chips.count()):
        box = chips.nth(i).bounding_box()
        assert box["y"] >= log_box["y"] and box["y"] + box["height"] <= log_box["y"] + log_box["height"], (i, box)
    page.screenshot(path=str(artifacts / "widget-phone-greeting.png"))
    # After sending, the text box lets go of focus: the keyboard goes down and the answer has the screen.
    question_box(page).tap()
    question_box(page).fill(SIDE_EFFECTS_Q)
    question_box(page).press("Enter")
    assert deep_active(page).get("id") != "ivig-input"
    answer_of(page, "side_effects")


def test_landscape_is_full_screen_and_usable_with_the_keyboard_up(new_page, demo_server, artifacts):
    page = new_page(**LANDSCAPE)
    page.goto(demo_server.url)
    launcher(page).tap()
    wait_for_greeting(page)
    # A short screen is full screen too (not only a narrow one), with a compact header.
    assert resting_box(panel(page)) == {"x": 0, "y": 0, "width": 844, "height": 390}
    expect(panel(page)).to_have_attribute("aria-modal", "true")
    layout = in_widget(page, LAYOUT)
    assert layout["header"] <= 56, layout

    # The keyboard comes up: 170 px of the screen are left. The panel fits them, the text box and Send stay
    # on screen, and the header steps aside while typing so the conversation keeps a usable area.
    question_box(page).tap()
    page.set_viewport_size({"width": 844, "height": 170})
    page.wait_for_timeout(300)
    layout = in_widget(page, LAYOUT)
    assert layout["panel"] == [844, 170], layout
    assert layout["onScreen"]["#ivig-input"] and layout["onScreen"]["form button"], layout
    assert not layout["headerShown"] and layout["log"] >= 100, layout
    page.screenshot(path=str(artifacts / "widget-landscape-keyboard.png"))
    # Keyboard down again: the header is back.
    page.locator(".log").tap()
    page.set_viewport_size({"width": 844, "height": 390})
    page.wait_for_timeout(300)
    assert in_widget(page, LAYOUT)["headerShown"]

    # Portrait with the keyboard up (about 450 of 844 px left): compact header, text box above the keyboard,
    # and most of what is left for the conversation.
    page.set_viewport_size({"width": 390, "height": 844})
    question_box(page).tap()
    page.set_viewport_size({"width": 390, "height": 450})
    page.wait_for_timeout(300)
    layout = in_widget(page, LAYOUT)
    assert layout["panel"] == [390, 450] and layout["onScreen"]["#ivig-input"], layout
    assert layout["header"] <= 56 and layout["log"] >= 300, layout


# ---------------------------------------------------------------- 3. zoom and reflow (WCAG 1.4.4, 1.4.10)


def test_reflow_at_320_css_px_and_zoom(new_page, demo_server, artifacts, axe_script):
    cases = (
        ("320x256", {"width": 320, "height": 256}, 1),  # WCAG 1.4.10's 320 x 256 CSS px
        ("phone-200", {"width": 195, "height": 422}, 4),  # a 390 x 844 phone at 200%
        ("desktop-400", {"width": 320, "height": 200}, 4),  # a 1280 x 800 screen at 400%
    )
    for name, viewport, scale in cases:
        page = new_page(viewport=viewport, device_scale_factor=scale)
        open_widget(page, demo_server.url)
        wait_for_greeting(page)
        ask(page, SIDE_EFFECTS_Q)
        answer_of(page, "side_effects")
        page.wait_for_timeout(200)
        layout = in_widget(page, LAYOUT)
        # Full screen, nothing in the header drawn over anything else, nothing wider than the screen, the
        # controls on screen, a compact header (at most 30% of the height) and the conversation keeps at least 40%.
        assert layout["panel"] == [viewport["width"], viewport["height"]], (name, layout)
        assert layout["overlaps"] == 0, (name, layout)
        assert layout["wide"] == [], (name, layout)
        assert all(layout["onScreen"].values()), (name, layout)
        assert layout["log"] >= 0.4 * viewport["height"], (name, layout)
        assert layout["header"] <= 0.3 * viewport["height"], (name, layout)
        page.screenshot(path=str(artifacts / f"widget-zoom-{name}.png"))
        if name == "320x256":
            assert run_axe(page, axe_script) == []


# ---------------------------------------------------------------- 4. long turns


def test_safety_box_once_in_full_then_one_line_and_sources_listed_once(page: Page, demo_server):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    full = page.locator('.log .m[data-topic="greeting"] .safe')
    expect(full).to_contain_text("medical supervision")
    ask(page, SIDE_EFFECTS_Q)
    msg = answer_of(page, "side_effects")
    line = msg.locator(".safe")
    expect(line).to_be_visible()
    # One short line (not the 168 px box), still saying "medical supervision" on screen...
    box, full_box = line.bounding_box(), full.bounding_box()
    assert box["height"] <= 50 and box["height"] < full_box["height"], (box, full_box)
    assert "medical supervision" in line.locator("[aria-hidden=true]").inner_text()
    # ...with every word of the safety message there for screen readers, and on screen on request.
    safety = MESSAGES["safety"]
    assert safety in line.aria_snapshot()
    more = line.get_by_role("button", name="More")
    expect(more).to_have_attribute("aria-expanded", "false")
    more.click()
    expect(line.get_by_role("button", name="Less")).to_have_attribute("aria-expanded", "true")
    expect(line.locator(".sr")).to_have_count(0)
    expect(line).to_contain_text(safety)
    # "Information checked ..." is a quiet line of its own.
    expect(msg.locator(".chk")).to_contain_text("Information checked")

    # The sources (here those of the side effects answer): once, as links with plain labels, no raw URLs.
    ask(page, "what are your sources")
    msg = answer_of(page, "sources")
    links = msg.locator(".cites a")
    expect(links.first).to_be_visible()
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) >= 2 and len(set(hrefs)) == len(hrefs), hrefs
    text = msg.inner_text()
    assert "https://" not in text and "doi.org" not in text, text[:500]
    first_label = links.first.inner_text().replace(" (opens in a new tab)", "").strip()
    assert text.count(first_label) == 1


# ---------------------------------------------------------------- 5. focus and announcements


def test_announced_once_and_one_banner(page: Page, demo_server):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask(page, SIDE_EFFECTS_Q)
    answer_of(page, "side_effects")
    live = page.locator(".panel > [aria-live=polite]")
    expect(live).to_contain_text(first_sentence("side_effects"))
    # Then the live region is emptied: a screen reader going through the panel meets the answer once.
    expect(live).to_have_text("", timeout=10_000)
    expect(page.locator(".panel > [aria-live=assertive]")).to_have_text("")
    # The page's header is the only banner; the widget's header is not a second one.
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.locator("ivig-chat-widget header")).to_have_count(0)


def test_full_screen_panel_is_modal_and_the_page_stays_still(new_page, demo_server):
    page = new_page(**PHONE)
    page.goto(demo_server.url)
    launcher(page).tap()
    wait_for_greeting(page)
    expect(panel(page)).to_have_attribute("aria-modal", "true")
    # Scrolling over the panel's header does not scroll the page behind it.
    page.mouse.move(100, 30)
    page.mouse.wheel(0, 800)
    page.wait_for_timeout(400)
    assert page.evaluate("scrollY") == 0
    assert page.evaluate("document.documentElement.style.overflow") == "hidden"
    # Closed: the page's own scrolling is back as it was.
    page.get_by_role("button", name="Close chat").tap()
    assert page.evaluate("document.documentElement.style.overflow") == ""
    page.mouse.move(100, 300)
    page.mouse.wheel(0, 800)
    page.wait_for_timeout(400)
    assert page.evaluate("scrollY") > 0


def test_focus_is_never_hidden_behind_the_panel(new_page, demo_server):
    """WCAG 2.4.11: at 800 x 600 the floating panel covers part of the portal. Tabbing out of the chat onto a
    link under it folds the panel back to its button; no focused element is ever covered."""
    page = new_page(viewport={"width": 800, "height": 600})
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    assert panel(page).get_attribute("aria-modal") is None  # not modal when it floats
    question_box(page).focus()
    covered, on_page = [], 0
    for _ in range(25):
        page.keyboard.press("Tab")
        page.wait_for_timeout(150)
        info = page.evaluate("""() => {
            const a = document.activeElement;
            if (!a || a === document.body || a.tagName === 'IVIG-CHAT-WIDGET') return null;
            const b = a.getBoundingClientRect();
            const top = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
            return {text: a.textContent.trim(), covered: !(top === a || a.contains(top))};
        }""")
        if info:
            on_page += 1
            if info["covered"]:
                covered.append(info["text"])
    assert on_page >= 3
    assert covered == [], covered
    # The panel folded back to its button; opening it again shows the same conversation.
    expect(panel(page)).to_be_hidden()
    launcher(page).click()
    expect(page.locator('.log .m[data-topic="greeting"]')).to_have_count(1)


# ---------------------------------------------------------------- 6. targets

TARGETS = """
    const log = r.querySelector('.log').getBoundingClientRect();
    const seen = e => { const b = e.getBoundingClientRect();
                        return b.width > 0 && (!e.closest('.log') || (b.top >= log.top && b.bottom <= log.bottom)); };
    return [...r.querySelectorAll('button, input, .calls a')].filter(seen).map(e => {
        const b = e.getBoundingClientRect();
        return {name: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40),
                x: b.left, y: b.top, w: b.width, h: b.height};
    });"""


def check_targets(targets):
    """Every control at least 44 x 44 CSS px (WCAG 2.5.5), none overlapping another."""
    small = [t for t in targets if t["w"] < 44 or t["h"] < 44]
    assert small == [], small

    def overlap(a, b):
        return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]

    over = [(a["name"], b["name"]) for i, a in enumerate(targets) for b in targets[i + 1 :] if overlap(a, b)]
    assert over == [], over


def test_targets_are_44_px_and_apart(new_page, demo_server):
    for options in (PHONE, {"viewport": {"width": 1280, "height": 800}}):
        page = new_page(**options)
        page.goto(demo_server.url)
        launcher(page).click()
        wait_for_greeting(page)
        ask(page, SIDE_EFFECTS_Q)
        msg = answer_of(page, "side_effects")
        msg.locator(".fb").scroll_into_view_if_needed()
        seen = in_widget(page, TARGETS)
        check_targets(seen)
        start = next(t for t in seen if t["name"].startswith("Start over"))
        close = next(t for t in seen if t["name"] == "Close chat")
        assert close["x"] - (start["x"] + start["w"]) >= 8, (start, close)
        page.get_by_role("button", name="Start over").click()
        confirm = in_widget(page, TARGETS)
        check_targets(confirm)
        names = {t["name"] for t in seen + confirm}
        assert {"This answer was helpful", "This answer was not helpful", "Send", "Close chat", "Yes, clear it", "Cancel"} <= names, names
        assert any(n.startswith("What ") for n in names), names  # suggested questions


# ---------------------------------------------------------------- 7. dark mode and forced colours


def test_dark_mode_for_light_sensitive_eyes(new_page, demo_server, artifacts, axe_script):
    page = new_page(**PHONE)
    page.emulate_media(color_scheme="dark")
    page.goto(demo_server.url)
    launcher(page).tap()
    wait_for_greeting(page)
    ask(page, SIDE_EFFECTS_Q)
    msg = answer_of(page, "side_effects")
    colours = in_widget(
        page,
        """
        const c = (s, p) => getComputedStyle(r.querySelector(s))[p || 'backgroundColor'];
        return {panel: c('.panel'), log: c('.log'), bubble: c('.m[data-topic=side_effects] .b'),
                text: c('.m[data-topic=side_effects] .b', 'color'), header: c('.hd'), headerText: c('.hd', 'color'),
                link: c('.m[data-topic=side_effects] .cites a', 'color'), chip: c('.chips button', 'color'),
                safe: c('.m[data-topic=side_effects] .safe'),
                safeText: c('.m[data-topic=side_effects] .safe', 'color')};""",
    )
    # The full-screen panel is dark, not bright white; the clinic's green is darkened for the header.
    assert luminance(colours["panel"]) < 0.03 and luminance(colours["log"]) < 0.03, colours
    assert luminance(colours["header"]) <= 0.07, colours
    # Text keeps WCAG AA contrast.
    assert contrast(colours["text"], colours["bubble"]) >= 7, colours
    assert contrast(colours["headerText"], colours["header"]) >= 4.5, colours
    assert contrast(colours["link"], colours["bubble"]) >= 4.5, colours
    assert contrast(colours["chip"], colours["log"]) >= 4.5, colours
    assert contrast(colours["safeText"], colours["safe"]) >= 4.5, colours
    page.screenshot(path=str(artifacts / "widget-phone-dark.png"))
    assert run_axe(page, axe_script) == []

    ask(page, "my chest really hurts and I can't breathe")
    msg = answer_of(page, "emergency")
    call = msg.get_by_role("link", name="Call 911", exact=True)
    assert contrast(call.evaluate("e => getComputedStyle(e).color"), call.evaluate("e => getComputedStyle(e).backgroundColor")) >= 4.5
    assert run_axe(page, axe_script) == []
    # Back to a light scheme: the panel follows.
    page.emulate_media(color_scheme="light")
    assert luminance(in_widget(page, "return getComputedStyle(r.querySelector('.panel')).backgroundColor")) > 0.9


def test_forced_colours_keep_edges_and_buttons(new_page, demo_server, artifacts):
    page = new_page(viewport={"width": 1280, "height": 800})
    page.emulate_media(forced_colors="active")
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask(page, SIDE_EFFECTS_Q)
    answer_of(page, "side_effects")
    borders = in_widget(
        page,
        """
        const b = s => { const st = getComputedStyle(r.querySelector(s));
                         return [st.borderTopStyle, parseFloat(st.borderTopWidth)]; };
        return {panel: b('.panel'), send: b('form button'), safe: b('.m[data-topic=side_effects] .safe'),
                chip: b('.chips button')};""",
    )
    # The floating panel has an edge, and Send looks like a button, not plain text.
    for name, (style, width) in borders.items():
        assert style == "solid" and width >= 1, (name, borders)
    assert borders["panel"][1] >= 2 and borders["send"][1] >= 2, borders
    page.screenshot(path=str(artifacts / "widget-forced-colors.png"))


# ---------------------------------------------------------------- 9. waiting, 8. host pages


def test_slow_answer_says_still_working_and_keeps_typed_text(page: Page, demo_server):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    held = []
    page.route("**/webhooks/rest/webhook", lambda route: held.append(route))
    ask(page, SIDE_EFFECTS_Q)
    typing = page.locator(".log .typing")
    expect(typing).to_contain_text("Still working on it", timeout=10_000)
    expect(page.locator(".panel > [aria-live=polite]")).to_have_text("Still working on it\u2026")
    # Enter while the bot is busy: the text stays in the box, and the patient hears why nothing happened.
    question_box(page).fill("what is ivig")
    question_box(page).press("Enter")
    expect(question_box(page)).to_have_value("what is ivig")
    expect(page.locator(".panel > [aria-live=polite]")).to_contain_text("still answering")
    for route in held:
        route.continue_()
    page.unroute("**/webhooks/rest/webhook")
    answer_of(page, "side_effects")
    expect(typing).to_have_count(0)


def test_host_page_offset_and_language(new_page, demo_server):
    page = new_page(viewport={"width": 1280, "height": 800})
    # The clinic's snippet with an offset (above a cookie bar) and Spanish as its language: the demo page's
    # script tag is changed as the page is parsed, before the (deferred) widget runs.
    page.add_init_script("""new MutationObserver((changes, obs) => {
        const s = document.querySelector('script[src*="ivig-chat"]');
        if (!s) return;
        Object.assign(s.dataset, {lang: 'es', offset: '90 30', title: 'Preguntas sobre IVIG'});
        obs.disconnect();
    }).observe(document, {childList: true, subtree: true});""")
    page.goto(demo_server.url)
    # The widget's own words in Spanish (bot/widget/ivig-chat.es.json, loaded from beside the script).
    spanish = page.get_by_role("button", name="Pregunte sobre la IVIG")
    expect(spanish).to_be_visible()
    # Above a host's cookie bar: 90 px from the bottom, 30 px from the side.
    box = spanish.bounding_box()
    assert (800 - box["y"] - box["height"], 1280 - box["x"] - box["width"]) == (90, 30), box
    spanish.click()
    dialog = page.get_by_role("dialog", name="Preguntas sobre IVIG")
    expect(dialog).to_be_visible()
    box = resting_box(dialog)
    assert round(800 - box["y"] - box["height"]) == 90, box
    # The clinic's own words and the widget's (translated) are marked Spanish; the bot's (English) are not.
    wait_for_greeting(page)
    langs = in_widget(
        page,
        """return {widget: r.querySelector('.w').lang, title: r.querySelector('h2').lang,
                                       greeting: r.querySelector('.m[data-topic=greeting] .b').lang};""",
    )
    assert langs == {"widget": "es", "title": "es", "greeting": "en"}, langs
