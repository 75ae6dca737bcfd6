"""Forget me in a real headless Chromium against the real bot (issue 15): the widget's control and the typed
request ask first, then every stored event of the conversation is gone from the tracker store's database and
the widget starts a new conversation id.
"""

import yaml
from playwright.sync_api import Page, expect
from test_doctor_summary_page import CONTENT, ask_and_wait
from test_widget import SIDE_EFFECTS_Q, answer_of, conversation_id, open_widget, run_axe, wait_for_greeting

from bot.rasa_ext.conversations import ConversationStore

PRIVACY = yaml.safe_load((CONTENT / "privacy.yml").read_text(encoding="utf-8"))


def stored_events(rasa_stack, sender: str):
    store = ConversationStore.sqlite(rasa_stack.config.tracker_db)
    try:
        return store.events(sender)
    finally:
        store.engine.dispose()


def test_the_widget_control_asks_then_deletes_the_conversation(page: Page, demo_server, rasa_stack, axe_script):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask_and_wait(page, SIDE_EFFECTS_Q)
    old_id = conversation_id(page)
    assert any(e.get("text") == SIDE_EFFECTS_Q for e in stored_events(rasa_stack, old_id))

    page.get_by_role("button", name="Start over").click()
    page.get_by_role("button", name="Delete it for good").click()
    question = answer_of(page, "privacy")
    expect(question).to_have_attribute("data-kind", "forget_confirm")
    expect(question).to_contain_text(PRIVACY["ask"])
    expect(question.locator(".fb")).to_have_count(0)  # no thumbs on privacy replies
    assert stored_events(rasa_stack, old_id), "nothing may be deleted before the patient says yes"
    assert run_axe(page, axe_script) == []

    question.get_by_role("button", name=PRIVACY["confirm_button"]).click()
    done = page.locator('.log .m[data-kind="forgotten"]')
    expect(done).to_contain_text(PRIVACY["forgotten"])
    assert stored_events(rasa_stack, old_id) == []
    new_id = conversation_id(page)
    assert new_id and new_id != old_id

    # The next question starts a new conversation, stored under the new id only.
    ask_and_wait(page, SIDE_EFFECTS_Q)
    assert stored_events(rasa_stack, old_id) == [] and stored_events(rasa_stack, new_id)


def test_typed_forget_me_and_no_keeps_everything(page: Page, demo_server, rasa_stack):
    open_widget(page, demo_server.url)
    wait_for_greeting(page)
    ask_and_wait(page, SIDE_EFFECTS_Q)
    sender = conversation_id(page)
    ask_and_wait(page, "forget me")
    answer_of(page, "privacy").get_by_role("button", name=PRIVACY["cancel_button"]).click()
    expect(page.locator('.log .m[data-kind="forget_kept"]')).to_contain_text(PRIVACY["kept"])
    assert conversation_id(page) == sender
    assert any(e.get("text") == SIDE_EFFECTS_Q for e in stored_events(rasa_stack, sender))
