// tornado-prefork blog demo: a character counter under the compose form's text area.
(function () {
  var area = document.querySelector("form.compose textarea");
  var count = document.querySelector("form.compose .count");
  if (!area || !count) return;
  var max = parseInt(count.getAttribute("data-max"), 10);
  function update() {
    var n = new TextEncoder().encode(area.value).length;
    count.textContent = n + " / " + max + " bytes";
    count.style.color = n > max ? "#a00" : "";
  }
  area.addEventListener("input", update);
  update();
})();
