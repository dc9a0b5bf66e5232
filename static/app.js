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
  // Money moves only after a yes. Without JS the server asks on a page of its own; here the
  // browser asks, and the form says so (confirmed=yes) so that the server does not ask again.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!confirm(form.dataset.confirm)) { event.preventDefault(); return; }
      if (form.elements.confirmed) form.elements.confirmed.value = "yes";
    });
  });
});
