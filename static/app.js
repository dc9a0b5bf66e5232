// Store-wide behaviour. Everything here is an enhancement: every form also works without it.
document.addEventListener("DOMContentLoaded", () => {
  const token = document.querySelector('meta[name="csrf-token"]')?.content;
  document.body.addEventListener("htmx:configRequest", (event) => {
    if (token) event.detail.headers["X-CSRF-Token"] = token;
  });
  // Show the shop's 4xx answers (a sold-out product, a bad quantity) where htmx targets them.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false },
      { code: "...", swap: false, error: true },
    ];
  }
  // After a failed submit, the focus goes to the first field in error (or the error summary): a
  // keyboard or screen-reader user lands on what to fix, not at the top of the page.
  const firstError = document.querySelector('[aria-invalid="true"]') || document.querySelector(".flash.error[role=alert]");
  if (firstError) {
    if (!firstError.matches("input, select, textarea, button")) firstError.tabIndex = -1;
    firstError.focus();
  }
  const same = document.getElementById("invoice-same");
  const invoice = document.getElementById("invoice-fields");
  if (same && invoice) {
    const sync = () => {
      invoice.hidden = same.checked;
      invoice.querySelectorAll("input, select").forEach((el) => { el.disabled = same.checked; });
    };
    same.addEventListener("change", sync);
    sync();
  }
  // A step that calls a provider may take seconds: the button that sent the form waits, disabled
  // and with a spinner, so that nothing looks stuck and a second click sends nothing twice.
  // Listening on the document also covers forms swapped in later (the order page's retry form),
  // and runs after a form's own listeners, so a confirmation answered "no" leaves it alone.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !form.matches("form[data-busy]")) return;
    const button = event.submitter || form.querySelector("button[type=submit]");
    form.setAttribute("aria-busy", "true");
    // Disabled only once the browser has taken the form's fields (and its submitter) to send.
    setTimeout(() => {
      if (!button || button.disabled) return;
      button.disabled = true;
      button.insertAdjacentHTML("afterbegin", '<span class="spinner" aria-hidden="true"></span> ');
      if (form.dataset.busy) button.setAttribute("aria-label", form.dataset.busy);
    }, 0);
  });
  // Back to a page the browser kept in memory: its buttons work again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    document.querySelectorAll("form[aria-busy=true]").forEach((form) => {
      form.removeAttribute("aria-busy");
      form.querySelectorAll("button[disabled]").forEach((button) => {
        button.disabled = false;
        button.removeAttribute("aria-label");
        button.querySelector(".spinner")?.remove();
      });
    });
  });
  // Money moves only after a yes. Without JS the server asks on a page of its own; here the
  // browser asks, and the form says so (confirmed=yes) so that the server does not ask again.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!confirm(form.dataset.confirm)) { event.preventDefault(); return; }
      if (form.elements.confirmed) form.elements.confirmed.value = "yes";
    });
  });
});
