// Forms whose work takes a while (an evidence export blurs every face of a clip): on submit the
// button is disabled, so a second click cannot start a second export, and the form's
// data-busy text says what is happening.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.busy) return;
  for (const button of form.querySelectorAll("button[type=submit]")) {
    button.disabled = true;
  }
  let status = form.querySelector(".busy-status");
  if (!status) {
    status = document.createElement("p");
    status.className = "busy-status";
    status.setAttribute("role", "status");
    form.appendChild(status);
  }
  status.textContent = form.dataset.busy;
});
