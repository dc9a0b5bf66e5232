"""SeQura's identification form, in form_v2's iframe on the shop's order page (or the whole page
an SMS link opened): who the shopper is, the code sent to their mobile, and for part payments
the card for the first instalment."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

TEST_CARD = ("4716 7730 7733 9777", "12/30", "123")  # the sandbox's
FORM_FRAME = "iframe.sq-identification-iframe"  # form_v2's iframe, on SeQura's origin
FORM_LOAD_MS = 15_000


class SequraForm:
    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def form(self) -> Locator:
        scope = self.page if "/pumbaa_form" in self.page.url else self.page.frame_locator(FORM_FRAME)
        form = scope.locator(".sq-identification-form")
        # The iframe loads from SeQura's origin (the sandbox process) after the order page: on a
        # busy CI machine that takes longer than an assertion's usual 5 s.
        expect(form).to_be_visible(timeout=FORM_LOAD_MS)
        return form

    def expect_step(self, step: str, timeout: float = 5_000) -> None:
        expect(self.form).to_have_attribute("data-sq-step", step, timeout=timeout)

    def identify(self, given: str = "Fulano", surnames: str = "De Tal", born: str = "1980-01-10",
                 mobile: str = "666666666") -> None:
        """Name, birth date and mobile, then the code SeQura texts (the sandbox's: the mobile's last five digits)."""
        form = self.form
        self.expect_step("identify")
        form.get_by_label("Nombre").fill(given)
        form.get_by_label("Apellidos").fill(surnames)
        form.get_by_label("Fecha de nacimiento").fill(born)
        form.get_by_label("Móvil").fill(mobile)
        form.get_by_role("button", name="Continuar").click()
        self.expect_step("otp")
        form.get_by_label("Código de verificación").fill(mobile[-5:])
        form.get_by_role("button", name="Verificar").click()

    def pay_first_instalment(self, card: tuple[str, str, str] = TEST_CARD) -> None:
        form = self.form
        self.expect_step("card")
        pan, expiry, cvv = card
        form.get_by_label("Número de tarjeta").fill(pan)
        form.get_by_label("Caducidad (MM/AA)").fill(expiry)
        form.get_by_label("CVV").fill(cvv)
        form.get_by_role("button", name=re.compile("^Pagar")).click()

    def returned_to_the_shop(self):
        """Around the form's last step: the form then sends the whole window to the shop's return
        URL, the order page again (a URL check alone would wait for nothing: it is the same URL)."""
        return self.page.expect_navigation(url=re.compile(r"/orders/"))
