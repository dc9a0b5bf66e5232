"""The sandbox bank, from both sides: the shopper's online banking, and the bank's control page
where a sales person books a transfer or chooses what happens to the bank's webhook."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from e2e.pages.online_banking import OnlineBanking
from e2e.pages.order import OrderPage
from e2e.store import sandbox_page

CONTROL = "banktransfer/"


def transfer_details(order_page: Page) -> tuple[str, str]:
    """(amount, reference) as the order page tells the shopper to transfer them."""
    return OrderPage(order_page).transfer_details()


def send_transfer(bank: Page, amount: str, reference: str) -> None:
    """The shopper's online banking: a transfer to the shop with the order's reference."""
    OnlineBanking(bank, sandbox_page(f"{CONTROL}bank")).send_transfer(amount, reference)


def expected_credit(control: Page, reference: str) -> Locator:
    """The bank's own record of the payment the shop expects: a row of its control page."""
    control.goto(sandbox_page(CONTROL))
    return control.locator("tr", has=control.get_by_role("cell", name=reference, exact=True))


def book_transfer(control: Page, reference: str) -> None:
    """The bank books the whole amount of one expected credit, as if the money arrived."""
    expected_credit(control, reference).get_by_role("button", name="Book transfer").click()
    expect(expected_credit(control, reference).locator("td.status")).to_have_text("credited")


def set_webhook(control: Page, mode: str) -> None:
    """What the bank does with its webhook from now on: send, lost, repeat, late."""
    control.goto(sandbox_page(CONTROL))
    control.locator("select[name=webhook]").select_option(mode)
    control.get_by_role("button", name="Set").click()
    expect(control.get_by_role("heading", name="Control")).to_be_visible()
    expect(control.locator("select[name=webhook]")).to_have_value(mode)
