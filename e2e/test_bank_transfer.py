"""The first journey: browse, fill a cart, check out, pay by bank transfer, watched live. The
money arrives the way a bank tells the shop, by its signed webhook: sent from the shopper's online
banking, or booked on the bank's control page. A payment the merchant cancels is cancelled at the
bank too. With the bank's API down, the shopper is offered to try again and the bank expects nothing."""

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.bank_steps import book_transfer, expected_credit, send_transfer, transfer_details
from e2e.steps import add_to_cart, fill_details, open_admin_order, order_number, place_order, say_yes
from e2e.store import sandbox_page


def fill_cart(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Things for the desk and the road")).to_be_visible()
    page.get_by_role("link", name="Dotted notebook A5").first.click()
    expect(page.get_by_role("heading", name="Dotted notebook A5")).to_be_visible()
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-message")).to_contain_text("Added 2 × Dotted notebook A5")
    page.go_back()
    page.get_by_role("link", name="Enamel camping mug").first.click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-message")).to_contain_text("Added 1 × Enamel camping mug")
    page.locator("#cart-link").click()
    expect(page.locator("tr[data-sku]")).to_have_count(2)
    # Change a quantity, then remove a line: both as partial updates.
    page.get_by_label("Quantity of Dotted notebook A5").fill("3")
    page.locator("tr[data-sku=NOTEBOOK-A5]").get_by_role("button", name="Update").click()
    expect(page.locator("#cart-total")).to_have_text("€61.50")
    page.get_by_role("button", name="Remove Enamel camping mug").click()
    expect(page.locator("tr[data-sku]")).to_have_count(1)
    # Under €50 the shipping fee comes back.
    expect(page.locator(".extra-line")).to_contain_text("Shipping")
    expect(page.locator("#cart-total")).to_have_text("€48.45")
    # A code that does not exist is refused; WELCOME10 takes 10 % (€4.35) off the products.
    page.get_by_label("Discount code").fill("NOPE")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("The code NOPE is not valid.")).to_be_visible()
    expect(page.locator("#cart-total")).to_have_text("€48.45")
    page.get_by_label("Discount code").fill("welcome10")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Code WELCOME10 applied.")).to_be_visible()
    expect(page.locator(".extra-line", has_text="Discount WELCOME10")).to_contain_text("4.35")
    expect(page.locator("#cart-total")).to_have_text("€44.10")


def check_out(page: Page) -> None:
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("E-mail").fill("not-an-address")
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_text("This e-mail address does not look right")).to_be_visible()
    expect(page.get_by_text("Please enter the first name")).to_be_visible()
    fill_details(page)
    page.get_by_label(re.compile("Bank transfer")).check()
    page.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    expect(page.locator(".instructions")).to_contain_text("DE02120300000000202051")
    expect(page.locator(".instructions")).to_contain_text("€44.10")  # the discount went into the order
    expect(page.locator(".qr svg")).to_be_visible()


def wait_for_the_money(page: Page) -> tuple[str, str]:
    """A filled cart checked out by bank transfer; the order page now waits. (amount, reference)"""
    fill_cart(page)
    check_out(page)
    page.evaluate("window.__sameDocument = true")
    return transfer_details(page)


def expect_paid_live(page: Page) -> None:
    expect(page.locator("#receipt")).to_contain_text("Paid — thank you!", timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"


@pytest.mark.phone_too
def test_bank_transfer_sent_from_online_banking_turns_the_page_paid_over_the_websocket(page: Page, new_context):
    amount, reference = wait_for_the_money(page)
    send_transfer(new_context().new_page(), amount, reference)
    expect_paid_live(page)
    assert page.locator("#payment").get_attribute("data-channel") == "socket"


def test_bank_transfer_booked_by_the_bank_turns_the_page_paid_by_polling(page: Page, new_context):
    page.route_web_socket(re.compile(r".*/ws(\?.*)?$"), lambda ws: ws.close())
    _, reference = wait_for_the_money(page)
    book_transfer(new_context().new_page(), reference)
    expect_paid_live(page)
    assert page.locator("#payment").get_attribute("data-channel") == "poll"


def test_a_cancelled_payment_offers_a_new_attempt_on_the_same_order(page: Page, new_context, server):
    fill_cart(page)
    check_out(page)
    order_url = page.url
    number = order_number(page)
    first_reference = page.locator(".instructions tr", has_text="Reference").locator("td").inner_text()
    page.evaluate("window.__sameDocument = true")
    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    say_yes(merchant)
    merchant.get_by_role("button", name="Cancel payment").click()
    expect(merchant.get_by_text("Cancel sent")).to_be_visible()
    # The bank no longer expects the money.
    expect(expected_credit(merchant, first_reference).locator("td.status")).to_have_text("cancelled")
    # The shopper sees it live, and can pay the same order again.
    expect(page.get_by_role("heading", name="Payment cancelled")).to_be_visible(timeout=10_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    page.get_by_role("button", name=re.compile("Pay €")).click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    assert page.url == order_url
    second_reference = page.locator(".instructions tr", has_text="Reference").locator("td").inner_text()
    assert second_reference.startswith(number) and second_reference != first_reference


def set_bank_api(control: Page, mode: str) -> None:
    """The bank's control page: how its API answers the shop from now on (ok, error, slow)."""
    control.goto(sandbox_page("banktransfer/"))
    control.locator("select[name=read]").select_option(mode)
    control.get_by_role("button", name="Set").click()
    expect(control.locator("select[name=read]")).to_have_value(mode)


@pytest.mark.destructive  # it takes the bank's API down for everyone
def test_with_the_banks_api_down_the_shopper_gets_a_retry_and_the_bank_expects_nothing(page: Page, new_context):
    control = new_context().new_page()
    set_bank_api(control, "error")
    try:
        add_to_cart(page, "PEN-BLUE")
        place_order(page, "Bank transfer")
        expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
        expect(page.locator("#payment")).to_contain_text("cannot be reached right now. Please try again in a moment.")
        expect(page.locator(".instructions")).to_have_count(0)  # no account to pay to: nothing asked of the shopper
        number = order_number(page)
        control.goto(sandbox_page("banktransfer/"))
        expect(control.locator("tr", has_text=number)).to_have_count(0)  # the bank expects no money for it
    finally:
        set_bank_api(control, "ok")
    # The bank answers again: the same order, retried from its page, waits for a transfer, which pays it.
    page.get_by_label(re.compile("Bank transfer")).check()
    page.get_by_role("button", name=re.compile(r"^Pay €")).click()
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    assert order_number(page) == number
    page.evaluate("window.__sameDocument = true")
    amount, reference = transfer_details(page)
    send_transfer(new_context().new_page(), amount, reference)
    expect_paid_live(page)
