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

// A choice never fails silently (htmx ignores error responses and lost connections):
// the card says the choice was NOT saved, the live region reads it out, the switch stays
// as it was, and "Probeer opnieuw" sends the same form again. A 403 means the page's
// security token is no longer accepted: trying again then reloads the page at the card.
function cardOf(element) {
  return element && element.closest ? element.closest(".purpose-card, .offer-card") : null;
}

function announce(text) {
  const announcer = document.getElementById("announcer");
  if (!announcer) {
    return;
  }
  // Emptied first, so that the same text twice is read out twice.
  announcer.textContent = "";
  window.setTimeout(function () {
    announcer.textContent = text;
  }, 50);
}

function showNotSaved(form, cause) {
  const card = cardOf(form);
  const box = card && card.querySelector(".card-failure");
  const template = document.getElementById("not-saved-template");
  if (!box || !template) {
    return;
  }
  const message = template.content.cloneNode(true);
  message.querySelector(".reason").textContent = template.dataset[cause] || template.dataset.server;
  const retry = message.querySelector(".retry");
  retry.addEventListener("click", function () {
    if (cause === "expired") {
      window.location.hash = card.id;
      window.location.reload();
      return;
    }
    box.replaceChildren();
    htmx.trigger(form, "submit");
  });
  box.replaceChildren(message);
  announce(box.querySelector("p").textContent);
}

document.addEventListener("htmx:beforeRequest", function (event) {
  const card = cardOf(event.detail.elt);
  const box = card && card.querySelector(".card-failure");
  if (box) {
    box.replaceChildren();
  }
});

document.addEventListener("htmx:responseError", function (event) {
  const status = event.detail.xhr ? event.detail.xhr.status : 0;
  showNotSaved(event.detail.elt, status === 403 ? "expired" : "server");
});

document.addEventListener("htmx:sendError", function (event) {
  showNotSaved(event.detail.elt, "offline");
});

document.addEventListener("htmx:timeout", function (event) {
  showNotSaved(event.detail.elt, "offline");
});
