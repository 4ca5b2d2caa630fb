// Keyboard: "/" jumps to the search box (unless typing in a field).
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var tag = (document.activeElement && document.activeElement.tagName) || "";
  if (["INPUT", "TEXTAREA", "SELECT"].indexOf(tag) !== -1) return;
  var box = document.getElementById("site-search");
  if (box) { event.preventDefault(); box.focus(); }
});
// Bulk actions: "select all" checkbox.
document.addEventListener("change", function (event) {
  if (event.target.id !== "select-all") return;
  document.querySelectorAll("input[name=case]").forEach(function (box) {
    box.checked = event.target.checked;
  });
});
