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
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => { if (!confirm(form.dataset.confirm)) event.preventDefault(); });
  });
});
