// "Copy feed URL": put the URL of the field a button names on the clipboard (the field stays
// selectable by hand when the clipboard is not available).
document.querySelectorAll("button[data-copy]").forEach(function (button) {
  var field = document.getElementById(button.dataset.copy);
  var status = document.querySelector("[data-copy-status='" + button.dataset.copy + "']");
  button.hidden = false;
  button.addEventListener("click", function () {
    function done(text) { if (status) { status.textContent = text; } }
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { done("Copied."); },
        function () { done(document.execCommand("copy") ? "Copied." : "Press Ctrl+C to copy."); }
      );
    } else {
      done(document.execCommand("copy") ? "Copied." : "Press Ctrl+C to copy.");
    }
  });
});
