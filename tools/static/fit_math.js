// Loaded on every page (tools/book_sphinx.py). MathJax 3 cannot break a long display equation across lines, so
// one wider than the text column would be cut off at the page's edge: shrink each such equation to the column's
// width, down to MIN_SCALE of its size; below that it scrolls (book.css). Runs after MathJax typesets the page
// and again when the window is resized. tools/check_html.py fails a page where one is still too wide.
(function () {
  var MIN_SCALE = 0.7;

  function fit() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (eq) {
      eq.style.fontSize = "";
      var wide = eq.scrollWidth, room = eq.clientWidth;
      if (room > 0 && wide > room + 1) {
        eq.style.fontSize = (100 * Math.max(MIN_SCALE, (room - 2) / wide)).toFixed(1) + "%";
      }
    });
  }

  function start() {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(fit);
    }
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(fit, 100);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
