// An engine run's page: while the run is open, fetch its progress panel again every few
// seconds and put in what changed (the summary is a live region, so a screen reader says
// the new count). When the run ends, the page loads once more, for its final counts.
(function () {
  "use strict";
  var EVERY_MS = 3000;
  var holder = document.getElementById("run-progress");
  if (!holder) return;
  function isOpen(root) {
    var panel = root.querySelector("[data-open]");
    return panel && panel.getAttribute("data-open") === "true";
  }
  if (!isOpen(holder)) return;
  function refresh() {
    fetch(holder.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        if (!isOpen(fresh)) {
          window.location.reload();
          return;
        }
        fresh.querySelectorAll("[data-part]").forEach(function (part) {
          var here = holder.querySelector('[data-part="' + part.getAttribute("data-part") + '"]');
          if (here && here.innerHTML !== part.innerHTML) here.innerHTML = part.innerHTML;
        });
        var bar = holder.querySelector("progress");
        var freshBar = fresh.querySelector("progress");
        if (bar && freshBar) {
          bar.max = freshBar.max;
          bar.value = freshBar.value;
        }
        window.setTimeout(refresh, EVERY_MS);
      })
      .catch(function () {
        // A lost connection: try again later; the page itself still says what it knew.
        window.setTimeout(refresh, EVERY_MS * 2);
      });
  }
  window.setTimeout(refresh, EVERY_MS);
})();
