// treatywatch dashboard: keyboard shortcuts and the correction form.
// Everything works without it.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA" || el.isContentEditable);
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) {
      return;
    }
    if (e.key === "/") {
      var search = document.getElementById("search");
      if (search) {
        e.preventDefault();
        search.focus();
        search.select();
      } else {
        window.location.href = "/items";
      }
      return;
    }
    if (e.key === "j" || e.key === "k") {
      var links = Array.prototype.slice.call(document.querySelectorAll("a.item-link"));
      if (links.length === 0) {
        return;
      }
      var i = links.indexOf(document.activeElement);
      i = e.key === "j" ? Math.min(i + 1, links.length - 1) : Math.max(i - 1, 0);
      links[i].focus();
      e.preventDefault();
    }
  });
  // A correction marked not relevant has no stance and no topics.
  var form = document.getElementById("correct");
  if (form) {
    var sync = function () {
      var rel = document.getElementById("c-relevant").checked;
      form.querySelectorAll("input[name=stance], input[name=topic]").forEach(function (el) {
        el.disabled = !rel;
      });
    };
    form.querySelectorAll("input[name=relevant]").forEach(function (el) {
      el.addEventListener("change", sync);
    });
    sync();
  }
  // Choosing a topic on the overview reloads the chart for it.
  var topic = document.getElementById("topic-select");
  if (topic && topic.form) {
    topic.addEventListener("change", function () {
      topic.form.submit();
    });
  }
})();
