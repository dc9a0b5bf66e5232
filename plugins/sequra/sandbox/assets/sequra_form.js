/* Cartwheel's SeQura sandbox: the script the form_v2 snippet loads on the shop's page, with
   SeQura's public face: window.SequraFormInstance with show(), close() and
   setCloseCallback(fn). The form itself lives in the snippet's iframe on SeQura's origin; this
   script shows that iframe and obeys what the form posts: close, or send the shopper to the
   shop's return URL. Messages from any other window or origin are ignored. */
(function () {
  "use strict";
  var frame = document.getElementById(window.SequraFormElement);
  if (!frame) { return; }
  var formOrigin = new URL(frame.src, window.location.href).origin;
  var closeCallback = null;

  function show() {
    frame.style.display = "block";
    frame.focus();
  }
  function close() {
    frame.style.display = "none";
    if (closeCallback) { closeCallback(); }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== formOrigin || event.source !== frame.contentWindow) { return; }
    var message = event.data || {};
    if (message.sequra === "close") {
      close();
    } else if (message.sequra === "redirect" && /^https?:\/\//.test(message.url || "")) {
      window.location.href = message.url;
    }
  });

  window.SequraFormInstance = {
    show: show,
    close: close,
    setCloseCallback: function (fn) { closeCallback = fn; }
  };
})();
