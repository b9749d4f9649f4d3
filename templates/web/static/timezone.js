// Optional helpers for the schedule fields (the page works without them):
// - the time zone starts as the browser's own, unless the person (or a re-shown form) chose one;
// - the weekday only matters for a weekly digest, so it is disabled for a daily one.
document.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
  input.addEventListener("input", function () { input.dataset.touched = "1"; });
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && (input.value === "" || input.value === "UTC") && !input.dataset.touched) {
      input.value = zone;
    }
  } catch (e) { /* keep the server's default */ }
});
document.querySelectorAll("fieldset.schedule").forEach(function (fieldset) {
  var weekday = fieldset.querySelector("select[name=weekday]");
  var radios = fieldset.querySelectorAll("input[name=frequency]");
  if (!weekday) { return; }
  function sync() {
    var weekly = fieldset.querySelector("input[name=frequency][value=weekly]:checked") !== null;
    weekday.disabled = !weekly;
    weekday.parentElement.classList.toggle("off", !weekly);
  }
  radios.forEach(function (radio) { radio.addEventListener("change", sync); });
  sync();
});
