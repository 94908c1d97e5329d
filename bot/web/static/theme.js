// Applies the saved theme before the page paints; the toggle cycles auto -> light -> dark.
(function () {
  var KEY = "sherlog-theme";
  function saved() { try { return localStorage.getItem(KEY) || "auto"; } catch (e) { return "auto"; } }
  function apply(mode) {
    if (mode === "light" || mode === "dark") document.documentElement.setAttribute("data-theme", mode);
    else document.documentElement.removeAttribute("data-theme");
  }
  apply(saved());
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    function label(mode) { button.textContent = "Theme: " + mode; button.setAttribute("aria-label", "Colour theme: " + mode + ". Activate to change."); }
    label(saved());
    button.addEventListener("click", function () {
      var order = ["auto", "light", "dark"];
      var next = order[(order.indexOf(saved()) + 1) % order.length];
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode */ }
      apply(next); label(next);
      document.dispatchEvent(new CustomEvent("sherlog:theme"));
    });
  });
})();
