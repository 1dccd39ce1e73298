// Small progressive enhancements; the pages work without this file.
"use strict";

// htmx keeps focus across a swap only when the focused element's id exists again. A card
// that asked "choose again" comes back with a switch instead of its two buttons, so move
// focus to that switch: keyboard and screen-reader users stay where they were.
document.addEventListener("htmx:afterSettle", function (event) {
  const card = event.detail.elt;
  if (!card.classList || !card.classList.contains("purpose-card")) {
    return;
  }
  if (document.activeElement && document.activeElement !== document.body) {
    return;
  }
  const control = card.querySelector("[role=switch], button");
  if (control) {
    control.focus();
  }
});

// An answered offer is replaced by a short confirmation; its buttons are gone, so move
// focus to the confirmation instead of leaving it on the page body.
document.addEventListener("htmx:afterSettle", function (event) {
  const card = event.detail.elt;
  if (card.classList && card.classList.contains("answered")) {
    card.focus();
  }
});
