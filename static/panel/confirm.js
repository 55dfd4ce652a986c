// Flask-Admin writes its "are you sure?" prompts (delete buttons) as inline onclick handlers,
// which the panel's Content-Security-Policy does not run: without this file a delete would
// go through unconfirmed. It reads each prompt's text and asks it from a listener instead.
document.addEventListener("DOMContentLoaded", function () {
  var prompt = /(?:safeConfirm|confirm)\('((?:[^'\\]|\\.)*)'\)/;
  document.querySelectorAll("[onclick]").forEach(function (element) {
    var found = prompt.exec(element.getAttribute("onclick") || "");
    if (!found) {
      return;
    }
    var message = found[1].replace(/\\(.)/g, "$1");
    element.addEventListener("click", function (event) {
      if (!window.confirm(message)) {
        event.preventDefault();
      }
    });
  });
});
