// Live payment status on the order page: a websocket first, a 1 s poll when the socket
// cannot open or drops. Both receive the same panel HTML, rendered by the server.
(() => {
  const section = document.getElementById("payment");
  if (!section) return;
  const order = section.dataset.order;
  let pollTimer = null;

  const current = () => section.querySelector("#payment-panel");
  const isFinal = () => current()?.dataset.final === "true";

  function swap(status, html) {
    if (current()?.dataset.status === status) return;
    section.innerHTML = html;
    if (window.htmx) htmx.process(section);
    section.dispatchEvent(new CustomEvent("payment-status", { bubbles: true, detail: { status } }));
  }

  function poll() {
    if (pollTimer) return;
    section.dataset.channel = "poll";
    pollTimer = setInterval(async () => {
      try {
        const response = await fetch(`/orders/${order}/status`, { headers: { Accept: "text/html" }, cache: "no-store" });
        if (!response.ok) return;
        swap(response.headers.get("X-Status"), await response.text());
        if (isFinal()) { clearInterval(pollTimer); }
      } catch (error) { /* offline for a moment: the next tick tries again */ }
    }, 1000);
  }

  if (isFinal()) return;
  let socket;
  try {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/orders/${order}/ws`);
  } catch (error) { poll(); return; }
  socket.addEventListener("open", () => { section.dataset.channel = "socket"; });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    swap(message.status, message.html);
    if (isFinal()) socket.close();
  });
  socket.addEventListener("close", () => { if (!isFinal()) poll(); });
  socket.addEventListener("error", () => { if (!isFinal()) poll(); });
})();
