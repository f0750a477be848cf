// The compose form (the demo's inline jQuery, without jQuery): the title is selected, and
// a form with an empty title or text is not sent.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.compose");
  if (!form) return;
  form.title.select();
  form.addEventListener("submit", function (ev) {
    var required = ["title", "markdown"];
    for (var i = 0; i < required.length; i++) {
      if (!form[required[i]].value) {
        form[required[i]].select();
        ev.preventDefault();
        return;
      }
    }
  });
});
