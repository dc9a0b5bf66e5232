/* Cartwheel's SEQR sandbox: a stand-in for SEQR's Instant Checkout widget, seqrQRCode-0.0.1.min.js.
   Same call as the guide's: seqrQRCode.qrCode({selector, purchaseToken, webshopId, mode}) fills
   the selected element with the product's Instant Checkout QR code. SEQR's guide does not say
   what the code encodes or what the widget draws; this one draws the code as an image from the
   sandbox, wrapped in a link with the app's scheme (a phone opens the app with a tap), and, as
   a sandbox, a link to play the payer's app in a browser. The plugin's README lists the guesses. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/\/[^/]*$/, "") : "";

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    for (var name in attributes) { node.setAttribute(name, attributes[name]); }
    if (text) { node.textContent = text; }
    return node;
  }

  function qrCode(options) {
    var host = options && document.querySelector(options.selector);
    if (!host || !options.purchaseToken || !options.webshopId) { return; }
    var query = "w=" + encodeURIComponent(options.webshopId) + "&t=" + encodeURIComponent(options.purchaseToken);
    var code = "HTTP://SEQR.SE/000/ic?" + query;
    host.textContent = "";
    host.setAttribute("data-seqr-code", code);
    host.setAttribute("data-seqr-mode", options.mode || "live");
    var link = element("a", {"class": "seqr-qrcode", href: "SEQR://SEQR.SE/000/ic?" + query,
                             "aria-label": "Buy now with SEQR"});
    link.appendChild(element("img", {src: base + "/instant/qr.svg?code=" + encodeURIComponent(code),
                                     alt: "", width: "160", height: "160"}));
    host.appendChild(link);
    var app = element("a", {href: base + "/app?code=" + encodeURIComponent(code), target: "_blank",
                            rel: "noopener", id: "seqr-instant-app", "class": "small"},
                      "No phone at hand? Open the SEQR app here");
    host.appendChild(element("p", {"class": "small"})).appendChild(app);
  }

  window.seqrQRCode = {qrCode: qrCode};
})();
