// Loaded on pages with ipywidgets, after require.js and before the widget manager (embed-amd.js); see
// tools/build_book.py. Two fixes so the saved widgets render offline:
(function () {
  // 1. The widget manager loads its icon fonts relative to where RequireJS resolves its module id
  //    (by default the page's own folder). Point that id at this build's _static/html-manager/.
  var root = document.documentElement.getAttribute("data-content_root") || "";
  var base = new URL(root + "_static/", document.location).href;
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": base + "html-manager" } });

  // 2. Widget labels are typeset with MathJax 2's API (MathJax.Hub.Queue); the book loads MathJax 3.
  //    This listener runs before the widget manager's (registered first) and after the deferred MathJax.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (mj && mj.startup && !mj.Hub) {
      mj.Hub = {
        Queue: function (job) {
          var el = job[job.length - 1];
          mj.startup.promise.then(function () { return mj.typesetPromise([el]); });
        },
      };
    }
  });
})();
