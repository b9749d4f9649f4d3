// A re-shown form with errors: focus the summary at the top (a screen reader reads it, and the
// page shows it first), and let each of its links put the cursor in the field it names.
(function () {
  var summary = document.getElementById("error-summary");
  if (!summary) { return; }
  summary.focus();
  summary.querySelectorAll("a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      var field = target.matches("input, select, textarea") ? target : null;
      target.scrollIntoView({ block: "center" });
      if (field) { field.focus({ preventScroll: true }); }
    });
  });
})();
