"""Every sandbox's control page, as a sales person uses it before and during a demo: each scenario
switch set and seen set, then every button on the page (a transaction's too) pressed once, none
answering with a server error. Served by the sandbox process, each under /sandbox/<plugin>/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Response, expect

from e2e.bank_steps import expected_credit, transfer_details
from e2e.secupay_steps import check_out_with_secupay
from e2e.seqr_steps import check_out_with_seqr, set_scenarios
from e2e.steps import add_to_cart, place_order
from e2e.store import sandbox_page

pytestmark = pytest.mark.destructive  # scenarios and transactions of every sandbox, for everyone


def press_every_button(control: Page, path: str, *, within: str = "form") -> list[str]:
    """Each button of the control page's forms once, coming back to the page before the next;
    returns the buttons pressed. A button gone by then (its transaction moved on) is skipped."""
    control.goto(sandbox_page(path))
    labels = list(dict.fromkeys(label.strip() for label in control.locator(f"{within} button").all_inner_texts()))
    pressed = []
    for label in labels:
        control.goto(sandbox_page(path))
        button = control.locator(f"{within} button", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).first
        if not button.count():
            continue
        with control.expect_response(lambda r: r.request.method == "POST") as posted:
            button.click()
        control.wait_for_load_state()
        answer: Response = posted.value
        assert answer.status < 500, f"{path} {label!r}: {answer.status} {answer.text()[:200]}"
        assert "Internal Server Error" not in control.content(), f"{path} {label!r}"
        pressed.append(label)
    return pressed


def test_the_bank_control_page(page: Page, new_context):
    add_to_cart(page, "MUG-ENAMEL")
    place_order(page, "Bank transfer")
    _, reference = transfer_details(page)
    control = new_context().new_page()
    control.goto(sandbox_page("banktransfer/"))
    control.locator("select[name=webhook]").select_option("late")
    control.locator("select[name=read]").select_option("error")
    control.get_by_role("button", name="Set").click()
    expect(control.get_by_role("heading", name="Control")).to_be_visible()
    expect(control.locator("select[name=webhook]")).to_have_value("late")
    expect(control.locator("select[name=read]")).to_have_value("error")
    control.locator("select[name=webhook]").select_option("send")
    control.locator("select[name=read]").select_option("ok")
    control.get_by_role("button", name="Set").click()
    expect(control.locator("select[name=read]")).to_have_value("ok")
    expected_credit(control, reference).get_by_role("button", name="Book transfer").click()
    expect(expected_credit(control, reference).locator("td.status")).to_have_text("credited")
    assert press_every_button(control, "banktransfer/") == ["Set", "Book transfer"]
    control.get_by_role("link", name="Online banking").click()
    expect(control.get_by_role("heading", name="Send a transfer")).to_be_visible()
    expect(page.locator("#receipt")).to_contain_text("Paid")  # the booked transfer reached the shop


def test_the_secupay_control_page(page: Page, new_context):
    check_out_with_secupay(page)  # a smart transaction, waiting on secupay's page
    control = new_context().new_page()
    control.goto(sandbox_page("secupay/"))
    for name, value in {"outcome": "review", "push": "late", "api": "slow"}.items():
        control.locator(f"select[name={name}]").select_option(value)
    control.get_by_role("button", name="Save scenarios").click()
    expect(control.get_by_text("Scenarios saved.")).to_be_visible()
    expect(control.locator("select[name=outcome]")).to_have_value("review")
    for name, value in {"outcome": "normal", "push": "normal", "api": "normal"}.items():
        control.locator(f"select[name={name}]").select_option(value)
    control.get_by_role("button", name="Save scenarios").click()
    expect(control.locator("select[name=api]")).to_have_value("normal")
    pressed = press_every_button(control, "secupay/")
    assert {"Save scenarios", "Expire all tokens", "cancel"} <= set(pressed), pressed
    expect(control.get_by_text(re.compile(r"STX_\w+: cancel done\.|cancelled")).first).to_be_visible()


def test_the_seqr_control_page(page: Page, new_context):
    check_out_with_seqr(page)
    control = new_context().new_page()
    set_scenarios(control, bank="decline", notification="late")
    set_scenarios(control, bank="approve", notification="deliver")
    control.get_by_role("button", name="Register").click()  # no webshop id: changes nothing, answers the page
    expect(control.get_by_role("heading", name="Invoices")).to_be_visible()
    pressed = press_every_button(control, "seqr/")
    assert {"Save scenarios", "Advance", "Register", "Payer pays"} <= set(pressed), pressed
    expect(page.locator("#receipt")).to_contain_text("Paid")  # "Payer pays" paid the shop's order


def test_the_sequra_control_page(page: Page, new_context):
    control = new_context().new_page()
    control.goto(sandbox_page("sequra/"))
    control.locator("input[name=decision][value=reject]").check()
    control.locator("input[name=server_error]").check()
    control.get_by_role("button", name="Save scenario").click()
    expect(control.locator("input[name=decision][value=reject]")).to_be_checked()
    expect(control.locator("input[name=server_error]")).to_be_checked()
    control.locator("input[name=decision][value=auto]").check()
    control.locator("input[name=server_error]").uncheck()
    control.get_by_role("button", name="Save scenario").click()
    expect(control.locator("input[name=decision][value=auto]")).to_be_checked()
    expect(control.locator("input[name=server_error]")).not_to_be_checked()
    assert press_every_button(control, "sequra/") == ["Save scenario"]
    control.get_by_role("link", name=re.compile("SMS inbox")).click()
    expect(control.get_by_role("heading", name="SMS inbox")).to_be_visible()
