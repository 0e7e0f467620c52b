// Loaded on pages with ipywidgets, after require.js and before the widget manager (embed-amd.js); see
// tools/build_book.py. Two fixes so the saved widgets render offline:
(function () {
  // 1. Each AMD module in embed-amd.js (@jupyter-widgets/base, controls, html-manager/dist/libembed-amd, ...)
  //    loads the icon fonts relative to where RequireJS resolves its id (by default the page's own folder);
  //    whichever renders first wins. Resolve all of them to this build's _static/html-manager/, where the
  //    fonts are (RequireJS picks the longest matching prefix).
  var root = document.documentElement.getAttribute("data-content_root") || "";
  var manager = new URL(root + "_static/html-manager", document.location).href;
  require.config({ paths: { "@jupyter-widgets": manager, "@jupyter-widgets/html-manager/dist": manager } });

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
