/* Cartwheel's SeQura sandbox: the script the form_v2 snippet loads on the shop's page, with
   SeQura's public face: window.SequraFormInstance with show(), close() and
   setCloseCallback(fn). The form itself lives in the snippet's iframe on SeQura's origin; this
   script shows that iframe and obeys what the form posts: close, or send the shopper to the
   shop's return URL. Messages from any other window or origin are ignored. The form is a modal
   dialog: shown, the keyboard's focus goes into it (the form takes it when told "shown", or
   when it says "ready" if it was still loading); closed, it goes back to what had it before. */
(function () {
  "use strict";
  var frame = document.getElementById(window.SequraFormElement);
  if (!frame) { return; }
  var formOrigin = new URL(frame.src, window.location.href).origin;
  var closeCallback = null;
  var opener = null;  // what had the focus before the form opened: it gets it back on close

  function shown() { return frame.style.display !== "none"; }
  function focusForm() {
    frame.focus();
    frame.contentWindow.postMessage({sequra: "shown"}, formOrigin);
  }
  function show() {
    if (!shown()) { opener = document.activeElement; }
    frame.style.display = "block";
    focusForm();
  }
  function close() {
    frame.style.display = "none";
    if (opener && opener !== document.body && opener.focus) { opener.focus(); } else { frame.blur(); }
    opener = null;
    if (closeCallback) { closeCallback(); }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== formOrigin || event.source !== frame.contentWindow) { return; }
    var message = event.data || {};
    if (message.sequra === "ready") {
      if (shown()) { focusForm(); }
    } else if (message.sequra === "close") {
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
