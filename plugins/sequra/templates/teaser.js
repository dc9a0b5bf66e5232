/* SeQura teasers: "More info" opens the instalment table as a modal <dialog> (Esc closes it,
   as does its Close button). Loaded once per page, whatever the number of teasers. */
(function () {
  "use strict";
  if (window.sequraTeasers) { return; }
  window.sequraTeasers = true;
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-sequra-opens]");
    if (!opener) { return; }
    var dialog = document.getElementById(opener.getAttribute("data-sequra-opens"));
    if (dialog && !dialog.open) { dialog.showModal(); }
  });
})();
