// Optional: fill the time-zone field with the browser's own zone (the page works without it).
document.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && (input.value === "" || input.value === "UTC") && !input.dataset.touched) {
      input.value = zone;
    }
  } catch (e) { /* keep the server's default */ }
});
