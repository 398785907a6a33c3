/* Keeps punctuation with the formula it belongs to. The browser may break a line on either
   side of an inline formula (MathJax's output is an atomic inline box), so a "." or ")," after
   $...$ could start a line of its own, and so could the "’s" of "$D$’s". This wraps the
   formula together with the "’s" and the punctuation right after it (and an opening bracket
   right before it) in <span class="ganlab-nobreak">, which _static/ganlab.css keeps on one
   line. */
(function () {
  "use strict";
  const AFTER = /^(?:[’']s(?![A-Za-z]))?[.,;:!?)\]]*/;
  const BEFORE = /[(\[]+$/;

  function glue() {
    document.querySelectorAll(".bd-article span.math").forEach((math) => {
      if (math.parentElement.classList.contains("ganlab-nobreak")) return;
      const next = math.nextSibling;
      const prev = math.previousSibling;
      let after = next && next.nodeType === Node.TEXT_NODE && next.data.match(AFTER);
      if (after && !after[0]) after = null;
      const before = prev && prev.nodeType === Node.TEXT_NODE && prev.data.match(BEFORE);
      if (!after && !before) return;
      const wrap = document.createElement("span");
      wrap.className = "ganlab-nobreak";
      math.before(wrap);
      if (before) wrap.append(prev.splitText(prev.data.length - before[0].length));
      wrap.append(math);
      if (after) {
        next.splitText(after[0].length);
        wrap.append(next);
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", glue);
  else glue();
})();
