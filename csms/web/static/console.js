// Tables that do not fit their card (a phone, a narrow column, longer French headers) are drawn
// as one block per row, each cell under its column's header (console.css: table.stacked).
// Runs on load, after every htmx swap (a DOM mutation), on resize and when a <details> opens.
// Without JavaScript a wide table scrolls inside its card instead.
(function () {
  "use strict";

  function label(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) return false;
    var names = [];
    for (var c = 0; c < head.cells.length; c++) {
      for (var s = 0; s < head.cells[c].colSpan; s++) names.push(head.cells[c].textContent.trim());
    }
    for (var b = 0; b < table.tBodies.length; b++) {
      var rows = table.tBodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var col = 0;
        for (var k = 0; k < rows[r].cells.length; k++) {
          var cell = rows[r].cells[k];
          if (cell.colSpan === 1 && names[col]) cell.setAttribute("data-label", names[col]);
          col += cell.colSpan;
        }
      }
    }
    return true;
  }

  function fit() {
    var tables = document.querySelectorAll("main table");
    for (var i = 0; i < tables.length; i++) {
      var t = tables[i];
      if (!t.hasAttribute("data-stackable")) {
        if (!label(t)) continue;
        t.setAttribute("data-stackable", "");
      }
      t.classList.remove("stacked");
      var box = t.parentElement, css = getComputedStyle(box);
      var room = box.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight);
      if (t.offsetWidth > room + 1) t.classList.add("stacked");
    }
  }

  var queued = false;
  function later() {
    if (queued) return;
    queued = true;
    // a microtask: after the swap, before the browser paints it
    Promise.resolve().then(function () { queued = false; fit(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    fit();
    new MutationObserver(later).observe(document.body, {childList: true, subtree: true});
    window.addEventListener("resize", later);
    document.addEventListener("toggle", later, true);
  });
})();
