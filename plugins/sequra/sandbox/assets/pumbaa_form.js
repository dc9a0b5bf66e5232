/* Cartwheel's SeQura sandbox: the identification form, on SeQura's own origin. It runs inside
   the form_v2 iframe on the shop's page, or as the whole page an SMS link opens on a phone.
   Framed, it never touches the shop's page: it posts {sequra: "close"} or
   {sequra: "redirect", url} to its parent, which sequra_form.js obeys. */
(function () {
  "use strict";
  var host = document.getElementById("sq-form");
  if (!host) { return; }
  var framed = window.parent !== window;
  var base = host.getAttribute("data-sequra-base");
  var uuid = host.getAttribute("data-sequra-order");
  var product = host.getAttribute("data-sequra-product");
  var api = base + "/orders/" + uuid + "/form";
  var overlay = null, box = null, timer = null, redirected = false, abortUrl = null;

  function css(el, styles) { for (var k in styles) { el.style[k] = styles[k]; } return el; }
  function el(tag, styles, text) {
    var node = css(document.createElement(tag), styles || {});
    if (text) { node.textContent = text; }
    return node;
  }
  function button(label, onClick, secondary) {
    var b = el("button", {display: "block", width: "100%", padding: "12px", marginTop: "12px", border: "0",
      borderRadius: "6px", fontSize: "16px", cursor: "pointer",
      background: secondary ? "#e6e6ea" : "#00c2a3", color: secondary ? "#222" : "#fff"}, label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }
  function field(form, name, label, value, type, error) {
    var wrap = el("label", {display: "block", marginTop: "10px", fontSize: "14px"}, label);
    var input = el("input", {display: "block", width: "100%", boxSizing: "border-box", padding: "10px",
      marginTop: "4px", fontSize: "16px", border: "1px solid " + (error ? "#d33" : "#bbb"), borderRadius: "6px"});
    input.name = name; input.type = type || "text"; input.value = value || "";
    input.setAttribute("data-sq-field", name);
    wrap.appendChild(input);
    if (error) { wrap.appendChild(el("span", {display: "block", color: "#d33", fontSize: "13px"}, error)); }
    form.appendChild(wrap);
    return input;
  }

  function request(path, data) {
    var options = data ? {method: "POST", body: new URLSearchParams(data)} : {};
    return fetch(api + path, options).then(function (r) { return r.json(); })
      .then(render, function () { render({step: "show_error", message: "SeQura cannot be reached."}); });
  }
  function submit(form, step) {
    var data = {};
    form.querySelectorAll("input").forEach(function (i) { data[i.name] = i.value; });
    return request("/" + step, data);
  }
  function poll() { clearTimeout(timer); timer = setTimeout(function () { request("/state"); }, 1000); }
  // Messages go only to the shop's own origin (that of its return and abort URLs).
  function tell(message, url) {
    var origin = "*";
    try { origin = new URL(url).origin; } catch (e) { /* a relative or missing URL: any parent */ }
    window.parent.postMessage(message, origin);
  }
  function go(url) {
    if (!url || redirected) { return; }
    redirected = true;
    setTimeout(function () {
      if (framed) { tell({sequra: "redirect", url: url}, url); } else { window.location.href = url; }
    }, 800);
  }

  function render(s) {
    clearTimeout(timer);
    if (s.abort_url) { abortUrl = s.abort_url; }
    box.textContent = "";
    var head = el("div", {display: "flex", justifyContent: "space-between", alignItems: "center"});
    head.appendChild(el("strong", {fontSize: "18px", color: "#00a389"}, "seQura"));
    var x = el("button", {border: "0", background: "none", fontSize: "22px", cursor: "pointer"}, "\u00d7");
    x.type = "button"; x.setAttribute("aria-label", "Close"); x.addEventListener("click", close);
    head.appendChild(x);
    box.appendChild(head);
    if (s.title) { box.appendChild(el("p", {margin: "8px 0", fontSize: "15px"}, s.title + " \u00b7 " + s.amount)); }
    if (s.message) { box.appendChild(el("p", {background: "#f0f7f6", padding: "8px", borderRadius: "6px",
      fontSize: "14px"}, s.message)); }
    var errors = s.errors || {}, known = s.known || {}, form = el("form", {});
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    box.setAttribute("data-sq-step", s.step);
    switch (s.step) {
      case "identify":
        field(form, "given_names", "Nombre", known.given_names, "text", errors.given_names);
        field(form, "surnames", "Apellidos", known.surnames, "text", errors.surnames);
        field(form, "date_of_birth", "Fecha de nacimiento", known.date_of_birth, "date", errors.date_of_birth);
        field(form, "mobile_phone", "M\u00f3vil", known.mobile_phone, "tel", errors.mobile_phone);
        form.appendChild(button("Continuar", function () { submit(form, "identify"); }));
        break;
      case "otp":
        field(form, "code", "C\u00f3digo de verificaci\u00f3n", "", "text", errors.code).inputMode = "numeric";
        form.appendChild(button("Verificar", function () { submit(form, "otp"); }));
        break;
      case "card":
        box.appendChild(el("p", {fontSize: "14px"}, "Hoy pagas la primera cuota: " + s.down_payment));
        field(form, "pan", "N\u00famero de tarjeta", "", "text", errors.pan).inputMode = "numeric";
        field(form, "expiry", "Caducidad (MM/AA)", "", "text");
        field(form, "cvv", "CVV", "", "text");
        field(form, "holder", "Titular", "", "text");
        form.appendChild(button("Pagar " + s.down_payment, function () { submit(form, "card"); }));
        break;
      case "wait_for_confirmation": case "wait_for_on_hold": case "wait_for_screening":
        box.appendChild(el("p", {fontSize: "15px"}, "Un momento, estamos confirmando tu pedido con la tienda\u2026"));
        poll();
        break;
      case "finish":
        box.appendChild(el("p", {fontSize: "16px", color: "#00a389"}, "\u00a1Aprobado! Volviendo a la tienda\u2026"));
        go(s.redirect);
        break;
      case "show_on_hold":
        box.appendChild(el("p", {fontSize: "15px"}, "SeQura est\u00e1 revisando tu pedido; te enviaremos un email."));
        go(s.redirect);
        break;
      case "approved_offline":
        box.appendChild(el("p", {fontSize: "18px", color: "#00a389"}, "\u00a1Aprobado!"));
        break;
      case "reject":
        form.appendChild(button("Elegir otro m\u00e9todo de pago", close, true));
        break;
      case "show_conflict": case "show_error":
        form.appendChild(button("Volver a la tienda", close, true));
        break;
    }
    box.appendChild(form);
    var first = form.querySelector("input");
    if (first) { first.focus(); }
  }

  function show() {
    if (!framed) { document.body.style.background = "#f4f4f6"; }
    if (!overlay) {
      overlay = el("div", {position: "fixed", top: "0", left: "0", width: "100%", height: "100%",
        background: "rgba(0,0,0,0.45)", zIndex: "999999", display: "flex", alignItems: "center",
        justifyContent: "center", fontFamily: "system-ui, sans-serif"});
      overlay.className = "sq-identification-overlay";
      box = el("div", {background: "#fff", width: "100%", maxWidth: "420px", maxHeight: "100%", overflowY: "auto",
        boxSizing: "border-box", padding: "16px 20px 20px", borderRadius: "10px", color: "#222"});
      box.className = "sq-identification-form";
      overlay.appendChild(box);
      host.appendChild(overlay);
    }
    overlay.style.display = "flex";
    request("/state?product=" + encodeURIComponent(product));
  }
  function close() {
    clearTimeout(timer);
    if (framed) {
      tell({sequra: "close"}, abortUrl);
    } else {
      overlay.style.display = "none";
      host.appendChild(el("p", {margin: "24px", fontSize: "16px"}, "You can close this page now."));
    }
  }

  show();
})();
