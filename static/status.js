// Live payment status on the order page: a websocket first, a 1 s poll when the socket
// cannot open or drops. Both receive the same panel HTML, rendered by the server.
// The socket carries what the status bus delivers, and the bus is best effort (Redis may be
// down or lose a message), so while the socket is open the page still asks for the status
// every data-check-seconds; data-channel keeps saying "socket" meanwhile.
(() => {
  const section = document.getElementById("payment");
  if (!section) return;
  const order = section.dataset.order;
  const checkEvery = 1000 * (Number(section.dataset.checkSeconds) || 5);
  let pollTimer = null;
  let checkTimer = null;
  let swaps = 0;
  // Screen readers hear each new status: a live region that exists before the first change (one
  // added together with its text is not read), holding the new panel's heading only, not the
  // whole panel with its forms.
  const announcer = document.createElement("p");
  announcer.id = "payment-announcer";
  announcer.className = "visually-hidden";
  announcer.setAttribute("role", "status");
  section.after(announcer);

  const current = () => section.querySelector("#payment-panel");
  const isFinal = () => current()?.dataset.final === "true";

  function swap(status, html) {
    if (current()?.dataset.status === status) return;
    swaps += 1;
    section.innerHTML = html;
    if (window.htmx) htmx.process(section);
    announcer.textContent = section.querySelector("h2")?.textContent.trim() ?? "";
    section.dispatchEvent(new CustomEvent("payment-status", { bubbles: true, detail: { status } }));
  }

  async function check() {
    const swapsBefore = swaps;
    try {
      // Naming the status shown: the store answers 304, no panel, while it has not changed.
      const headers = { Accept: "text/html", "If-None-Match": `"${current()?.dataset.status ?? ""}"` };
      const response = await fetch(`/orders/${order}/status`, { headers, cache: "no-store" });
      if (!response.ok) return;  // 304 too: nothing new
      const html = await response.text();
      // A push that landed while this request was out may be newer: keep it, the next check asks again.
      if (swaps === swapsBefore) swap(response.headers.get("X-Status"), html);
    } catch (error) { /* offline for a moment: the next tick tries again */ }
    if (isFinal()) settle();
  }

  function settle() {  // nothing changes after a final status
    clearInterval(pollTimer);
    clearInterval(checkTimer);
    socket?.close();
  }

  function poll() {
    if (pollTimer) return;
    clearInterval(checkTimer);
    section.dataset.channel = "poll";
    pollTimer = setInterval(check, 1000);
  }

  if (isFinal()) return;
  let socket;
  try {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // Naming the status shown: the store sends a panel only once it is another.
    const shown = encodeURIComponent(current()?.dataset.status ?? "");
    socket = new WebSocket(`${scheme}://${location.host}/orders/${order}/ws?shown=${shown}`);
  } catch (error) { poll(); return; }
  socket.addEventListener("open", () => {
    section.dataset.channel = "socket";
    checkTimer = setInterval(check, checkEvery);
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    swap(message.status, message.html);
    if (isFinal()) settle();
  });
  socket.addEventListener("close", () => { if (!isFinal()) poll(); });
  socket.addEventListener("error", () => { if (!isFinal()) poll(); });
})();
