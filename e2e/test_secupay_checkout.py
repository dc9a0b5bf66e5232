"""secupay Smart Checkout: the shopper leaves the shop, full page, for secupay's hosted page, pays
there by card (declined, 3-D Secure), SEPA direct debit or prepayment, or gives up, and comes back
to the shop's return URLs. Prepayment shows secupay's bank details and a GiroCode on the order
page; the transfer arriving later reaches the shop as a push and turns the page paid live, unless
the merchant cancels it first. The merchant refunds part of a card payment from the back office."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.secupay_steps import (
    CARD_3DS,
    CARD_DECLINED,
    CARD_FAILS,
    CARD_OK,
    IBAN,
    back_to_the_shop,
    check_out_with_secupay,
    expect_paid,
    paid_by_card,
    pay_by_card,
)
from e2e.steps import add_to_cart, merchant_cancels_live, open_admin_order, order_number, say_yes, shot
from e2e.store import sandbox_page


@pytest.mark.phone_too
def test_card_payment(page: Page):
    check_out_with_secupay(page, "Credit card")
    expect(page.get_by_text(re.compile(r"Dotted notebook A5"))).to_be_visible()  # the basket secupay was sent
    shot(page, "card-form")
    pay_by_card(page, CARD_OK)
    shot(page, "card-result")
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    number = order_number(page)
    expect(page.locator("#receipt")).to_contain_text(number)
    shot(page, "card-receipt")
    # The return URL opened again (the browser's back button) changes nothing; a forged one is refused.
    page.go_back()
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    page.goto("/pay/secupay/return/not-a-token-of-ours/success")
    expect(page.get_by_text("This payment link is not known to the shop.")).to_be_visible()


def test_a_failed_card_then_a_successful_retry_on_the_same_order(page: Page):
    check_out_with_secupay(page, "Credit card")
    pay_by_card(page, CARD_FAILS)
    # secupay gives up on the payment and sends the shopper to the shop's error URL.
    expect(page.get_by_role("heading", name="Payment failed")).to_be_visible()
    expect(page.locator("#payment")).to_contain_text("secupay declined the card payment. No money was taken")
    order_url, number = page.url, order_number(page)
    shot(page, "failed-order-page")
    page.get_by_label(re.compile(r"Credit card\s*via secupay")).check()
    page.get_by_role("button", name=re.compile(r"^Pay €")).click()
    # A new attempt on the same order: a new secupay page, where the first card is declined.
    expect(page).to_have_url(re.compile(r"/sandbox/secupay/checkout\?"))
    expect(page.get_by_text(f"order {number}")).to_be_visible()
    pay_by_card(page, CARD_DECLINED)
    expect(page.get_by_text("The card was declined. Please use another card.")).to_be_visible()
    expect(page.get_by_label("Card holder")).to_have_value("Ada Lovelace")  # what was typed stays
    shot(page, "card-declined")
    pay_by_card(page, CARD_OK)
    back_to_the_shop(page, "Payment successful")
    assert page.url == order_url
    expect_paid(page)


def test_3d_secure_challenge(page: Page):
    check_out_with_secupay(page, "Credit card")
    pay_by_card(page, CARD_3DS)
    expect(page.get_by_role("heading", name="3-D Secure")).to_be_visible()
    expect(page.get_by_text("with card 400000XXXXXX3220")).to_be_visible()
    shot(page, "3ds-challenge")
    page.get_by_label(re.compile("Confirmation code")).fill("9999")
    page.get_by_role("button", name="Confirm").click()
    # A wrong code: back on the card form, told why, nothing paid.
    expect(page.get_by_text("The 3-D Secure check failed.")).to_be_visible()
    pay_by_card(page, CARD_3DS)
    page.get_by_label(re.compile("Confirmation code")).fill("1234")
    page.get_by_role("button", name="Confirm").click()
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)


def test_sepa_direct_debit_with_a_mandate_on_a_phone(phone):
    page = phone.new_page()
    check_out_with_secupay(page, "SEPA direct debit")
    expect(page.get_by_role("heading", name="SEPA direct debit")).to_be_visible()
    page.get_by_label("Account holder").fill("Ada Lovelace")
    page.get_by_label("IBAN").fill("DE38 5032 4000 1000 0005 24")  # one check digit wrong
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_text("This IBAN is not valid (check digits or length).")).to_be_visible()
    expect(page.get_by_text("Please grant the SEPA direct debit mandate.")).to_be_visible()
    shot(page, "sepa-errors")
    page.get_by_label("IBAN").fill(IBAN)
    page.get_by_label(re.compile("I authorise secupay AG to collect this payment")).check()
    page.get_by_role("button", name="Pay now").click()
    back_to_the_shop(page, "Payment successful")
    expect_paid(page)
    shot(page, "sepa-receipt-phone")


def test_prepayment_shows_the_transfer_and_turns_paid_live_when_it_arrives(page: Page, new_context):
    check_out_with_secupay(page, r"Prepayment \(bank transfer\)")
    expect(page.get_by_role("heading", name="Prepayment (bank transfer)")).to_be_visible()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_role("img", name="GiroCode")).to_be_visible()  # secupay shows the transfer too
    shot(page, "prepaid-hosted-result")
    back_to_the_shop(page, "Please transfer the amount")
    # Back in the shop: secupay's account, the purpose that finds the payment, and a GiroCode.
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    instructions = page.locator(".instructions")
    expect(instructions).to_contain_text("secupay AG")
    expect(instructions).to_contain_text("DE81 8504 0061 1005 5237 59")
    expect(instructions).to_contain_text("COBADEFFXXX")
    expect(instructions).to_contain_text("Commerzbank")
    expect(instructions).to_contain_text("€19.45")
    purpose = instructions.locator("tr", has_text="Purpose").locator("td").inner_text()
    assert re.fullmatch(r"TA \d+", purpose), purpose
    expect(page.locator(".qr svg")).to_be_visible()
    expect(page.get_by_text("purpose exactly as shown")).to_be_visible()
    shot(page, "prepaid-instructions")
    page.evaluate("window.__sameDocument = true")
    # The transfer arrives at secupay (the sandbox's control page); secupay pushes; the shop reads it.
    secupay = new_context().new_page()
    secupay.goto(sandbox_page("secupay/"))
    row = secupay.locator("tr", has_text=order_number(page))
    expect(row).to_contain_text("pending")
    row.get_by_role("button", name="transfer received").click()
    expect(secupay.get_by_text("transfer received done")).to_be_visible()
    expect_paid(page)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded instead of updating live"
    expect(page.locator(".instructions")).to_have_count(0)
    shot(page, "prepaid-paid")


def test_abort_goes_back_to_the_checkout_with_the_cart_intact(page: Page):
    add_to_cart(page, "MUG-ENAMEL")
    check_out_with_secupay(page, sku="TEA-SENCHA")
    expect(page.get_by_role("heading", name="Choose how to pay")).to_be_visible()
    shot(page, "methods")
    hosted_page = page.url
    page.get_by_role("link", name="Cancel payment and return to the shop").click()
    expect(page).to_have_url(re.compile(r"/checkout$"))
    expect(page.get_by_text("You left the payment page. Your cart is as you left it")).to_be_visible()
    # The shop closed the transaction at secupay: the old link no longer takes a payment.
    secupay = page.context.new_page()
    secupay.goto(hosted_page)
    expect(secupay.get_by_role("heading", name="This payment is closed")).to_be_visible()
    expect(secupay.get_by_role("button", name="Pay now")).to_have_count(0)
    expect(secupay.get_by_role("heading", name="Choose how to pay")).to_have_count(0)
    secupay.close()
    page.goto("/cart")
    expect(page.locator("tr[data-sku]")).to_have_count(2)
    expect(page.locator("tr[data-sku=MUG-ENAMEL]")).to_be_visible()
    expect(page.locator("tr[data-sku=TEA-SENCHA]")).to_be_visible()
    shot(page, "abort-cart")


def test_the_merchant_refunds_part_of_a_card_payment(page: Page, new_context):
    number = paid_by_card(page, sku="LAMP-DESK")
    merchant = new_context().new_page()
    open_admin_order(merchant, number)
    expect(merchant.locator("#order-status")).to_have_text("paid")
    refund = merchant.locator("form[action$='/refund']")
    refund.get_by_label("Refund").fill("5.00")
    refund.get_by_placeholder("reason").fill("scratched base")
    say_yes(merchant)
    refund.get_by_role("button", name="Refund").click()
    expect(merchant.get_by_text("Refunded €5.00.")).to_be_visible()
    expect(merchant.locator(".payment")).to_contain_text(re.compile(r"Refund PCI_\w+: €5\.00"))
    expect(merchant.locator(".payment")).to_contain_text("refunded €5.00")
    expect(merchant.locator("#order-status")).to_have_text("paid")  # part of it: still paid
    expect(merchant.locator(".timeline")).to_contain_text("/api/v2/Payment/Transactions/")
    shot(merchant, "refund-back-office")
    # At secupay, the payment is lowered by the refund.
    merchant.goto(sandbox_page("secupay/"))
    expect(merchant.locator("tr", has_text=number)).to_contain_text("reduced 5.00")


def test_the_merchant_cancels_a_prepayment_still_waiting_for_its_transfer(page: Page, new_context):
    check_out_with_secupay(page, r"Prepayment \(bank transfer\)", sku="PEN-CASE")
    page.get_by_role("button", name="Pay now").click()
    back_to_the_shop(page, "Please transfer the amount")
    expect(page.get_by_role("heading", name=re.compile("Waiting for your transfer"))).to_be_visible()
    number = order_number(page)
    merchant = merchant_cancels_live(page, new_context, number)
    # At secupay the transaction is cancelled: a transfer can no longer be booked against it.
    merchant.goto(sandbox_page("secupay/"))
    row = merchant.locator("tr", has_text=number)
    expect(row).to_contain_text("cancelled")
    expect(row.get_by_role("button", name="transfer received")).to_have_count(0)
