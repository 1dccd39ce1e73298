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
// focus to the confirmation instead of leaving it on the page body. So is a linked app's
// card by the question "Toegang intrekken?", and that by the answer.
document.addEventListener("htmx:afterSettle", function (event) {
  const card = event.detail.elt;
  if (card.classList && (card.classList.contains("answered") || card.classList.contains("app-card"))) {
    card.focus();
  }
});

// A choice never fails silently, and a card never says what is not true. htmx ignores
// error responses and lost connections; when a choice's answer does not arrive (no
// connection, a timeout, a connection cut, a 5xx, or anything that is not the card) the
// choice may have been saved all the same: the server can commit and then lose the answer.
// So before it says anything the card asks the bank what is stored (a GET of the card,
// safe to repeat) and compares that with what the customer chose:
// - stored: the card as stored, "Uw keuze is toch opgeslagen";
// - not stored: "Uw keuze is NIET opgeslagen", the switch as it was, and "Probeer
//   opnieuw", which sends the same form again (after a 403 the page's security token is
//   no longer accepted: trying again then reloads the page at the card);
// - the bank cannot be asked either: that we cannot tell yet, "Opnieuw kijken" (ask
//   again) and "Pagina opnieuw laden", never either outcome.
// The live region reads out the outcome, once. An offer's card has nothing to ask: it
// says NOT saved straight away.
const QUESTION_TIMEOUT_MS = 10000;
// The question in flight per card; a new request from the card makes its answer moot.
const questions = new WeakMap();

function cardOf(element) {
  return element && element.closest ? element.closest(".purpose-card, .offer-card, .app-card") : null;
}

function announce(text) {
  const announcer = document.getElementById("announcer");
  if (!announcer) {
    return;
  }
  // Emptied first, so that the same text twice is read out twice.
  announcer.textContent = "";
  window.setTimeout(function () {
    announcer.textContent = text.replace(/\s+/g, " ").trim();
  }, 50);
}

// The message of `templateId` in the card's failure box; returns the message.
function fill(card, templateId) {
  const box = card.querySelector(".card-failure");
  const template = document.getElementById(templateId);
  if (!box || !template) {
    return null;
  }
  box.replaceChildren(template.content.cloneNode(true));
  return box.firstElementChild;
}

// Focus that was on a button the message replaced would be lost on the page body: put it
// on the message's first button (or the card's control) instead.
function keepFocusIn(card, message) {
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) {
    return;
  }
  const control = (message && message.querySelector("button")) || card.querySelector("[role=switch], button");
  if (control) {
    control.focus();
  }
}

function reloadAt(card) {
  window.location.hash = card.id;
  window.location.reload();
}

function showNotSaved(form, cause) {
  const card = cardOf(form);
  const template = document.getElementById("not-saved-template");
  const message = card && fill(card, "not-saved-template");
  if (!message) {
    return;
  }
  message.querySelector(".reason").textContent = template.dataset[cause] || template.dataset.server;
  message.querySelector(".retry").addEventListener("click", function () {
    if (cause === "expired") {
      reloadAt(card);
      return;
    }
    card.querySelector(".card-failure").replaceChildren();
    htmx.trigger(form, "submit");
  });
  keepFocusIn(card, message);
  announce(message.querySelector("p").textContent);
}

function showNotKnown(form, cause) {
  const card = cardOf(form);
  const message = fill(card, "not-known-template");
  if (!message) {
    return;
  }
  message.querySelector(".check-again").addEventListener("click", function () {
    askWhatIsStored(form, cause);
  });
  message.querySelector(".reload").addEventListener("click", function () {
    reloadAt(card);
  });
  keepFocusIn(card, message);
  announce(message.querySelector("p").textContent);
}

function showSavedAfterAll(card, html) {
  const id = card.id;
  // As htmx swaps a choice's answer: the card in place (focus kept by id), the summary at
  // the top of the page out of band.
  htmx.swap(card, html, { swapStyle: "outerHTML", swapDelay: 0, settleDelay: 0 });
  const stored = document.getElementById(id);
  const message = stored && fill(stored, "saved-after-all-template");
  if (!message) {
    return;
  }
  const status = stored.querySelector(".since");
  announce(message.textContent + " " + (status ? status.textContent : ""));
}

// The card as stored now, from the card's data-state-url; rejects when there is no
// answer or the answer is not this card.
function storedCard(url, id) {
  const controller = new AbortController();
  const timer = window.setTimeout(function () {
    controller.abort();
  }, QUESTION_TIMEOUT_MS);
  return fetch(url, {
    headers: { "HX-Request": "true" },
    cache: "no-store",
    credentials: "same-origin",
    redirect: "error", // a login page (the session ended) is no answer
    signal: controller.signal,
  })
    .then(function (response) {
      if (!response.ok) {
        throw new Error("status " + response.status);
      }
      return response.text();
    })
    .then(function (html) {
      const parsed = document.createElement("template");
      parsed.innerHTML = html;
      const card = parsed.content.getElementById(id);
      if (!card || !card.hasAttribute("data-stored")) {
        throw new Error("not the card");
      }
      return { html: html, stored: card.dataset.stored };
    })
    .finally(function () {
      window.clearTimeout(timer);
    });
}

function askWhatIsStored(form, cause) {
  const card = cardOf(form);
  const choice = form.querySelector("input[name=choice]");
  if (!card || !card.dataset.stateUrl || !choice) {
    showNotSaved(form, cause);
    return;
  }
  const chosen = choice.value; // "grant" or "withdraw", as the card's data-stored says it
  const question = {};
  questions.set(card, question);
  // Visible while the bank is asked, not read out: it claims nothing.
  fill(card, "checking-template");
  storedCard(card.dataset.stateUrl, card.id).then(
    function (answer) {
      if (questions.get(card) !== question || !card.isConnected) {
        return;
      }
      questions.delete(card);
      if (answer.stored === chosen) {
        showSavedAfterAll(card, answer.html);
      } else {
        showNotSaved(form, cause);
      }
    },
    function () {
      if (questions.get(card) !== question || !card.isConnected) {
        return;
      }
      questions.delete(card);
      showNotKnown(form, cause);
    },
  );
}

document.addEventListener("htmx:beforeRequest", function (event) {
  const card = cardOf(event.detail.elt);
  const box = card && card.querySelector(".card-failure");
  if (box) {
    questions.delete(card);
    box.replaceChildren();
  }
});

// A 2xx that is not the card (a proxy's page, say) is no answer either: not swapped, and
// handled as an error.
document.addEventListener("htmx:beforeSwap", function (event) {
  const card = cardOf(event.detail.target);
  if (!event.detail.shouldSwap || !card || !card.dataset.stateUrl) {
    return;
  }
  const parsed = document.createElement("template");
  parsed.innerHTML = event.detail.serverResponse;
  if (!parsed.content.getElementById(card.id)) {
    event.detail.shouldSwap = false;
    event.detail.isError = true;
  }
});

document.addEventListener("htmx:responseError", function (event) {
  const status = event.detail.xhr ? event.detail.xhr.status : 0;
  askWhatIsStored(event.detail.elt, status === 403 ? "expired" : "server");
});

document.addEventListener("htmx:sendError", function (event) {
  askWhatIsStored(event.detail.elt, "offline");
});

document.addEventListener("htmx:timeout", function (event) {
  askWhatIsStored(event.detail.elt, "offline");
});
