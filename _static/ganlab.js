/* Keeps punctuation with the formula or the inline code it belongs to. The browser may break
   a line on either side of an inline formula (MathJax's output is an atomic inline box) or of
   inline code, so a "." or ")," after $...$ could start a line of its own, and so could the
   "’s" of "$D$’s", the "-way" of "$(C+1)$-way" or the "%" of "$63$ %". This wraps the formula
   (or code) together with what follows it (and an opening bracket right before it) in
   <span class="ganlab-nobreak">, which _static/ganlab.css keeps on one line. */
(function () {
  "use strict";
  const AFTER = /^(?:[’']s(?![A-Za-z])|-[A-Za-z]+| ?%)?[.,;:!?)\]]*/;
  const BEFORE = /[(\[]+$/;

  function glue() {
    const inline = ".bd-article span.math, .bd-article :is(p, li, dd, td) code.literal";
    document.querySelectorAll(inline).forEach((element) => {
      // a code reference is a link around the code: the link is what the text follows
      const math = element.matches("code") ? element.closest("a") || element : element;
      if (math.parentElement.classList.contains("ganlab-nobreak")) return;
      const next = math.nextSibling;
      const prev = math.previousSibling;
      let after = next && next.nodeType === Node.TEXT_NODE && next.data.match(AFTER);
      if (after && !after[0]) after = null;
      const before = prev && prev.nodeType === Node.TEXT_NODE && prev.data.match(BEFORE);
      if (!after && !before) return;
      const wrap = document.createElement("span");
      wrap.className = element.matches("code") ? "ganlab-nobreak ganlab-code" : "ganlab-nobreak";
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

/* One cue for everything that scrolls sideways (a figure on a phone, a table, a formula on its
   own line): the box is marked "ganlab-scrolls" while it does, and the cue under it, "swipe
   sideways", made the first time, shows on a phone only (_static/ganlab.css): a phone may show
   no scrollbar until the reader happens to swipe. */
function ganlabMarkScrolling(box, rest) {
  "use strict";
  const scrolls = box.scrollWidth > box.clientWidth + 1;
  box.classList.toggle("ganlab-scrolls", scrolls);
  const next = box.nextElementSibling;
  if (scrolls && !(next && next.classList.contains("ganlab-swipe-cue"))) {
    const cue = document.createElement("span");
    cue.className = "ganlab-swipe-cue";
    cue.textContent = `⇠ swipe sideways to see ${rest} ⇢`;
    box.after(cue);
  }
}

/* A figure on a phone keeps a legible scale. Matplotlib draws the book's figures at 100 dpi, so
   an image's natural width is the width its 10-11 pt text was set for; a figure 10 in wide
   shrunk into a 350-px phone column shows at a third of it, too small to read. Each figure's
   PNG goes into <div class="ganlab-figure-scroll">, with its natural width in the CSS variable
   --ganlab-natural-width; on a phone _static/ganlab.css shows it at 65 % of that width at least
   (never wider than natural, never narrower than the column), in a box that scrolls sideways
   with a visible scrollbar, and under it a cue to swipe, shown only where the box scrolls. On
   a phone, tapping the image opens it on its own, where the phone zooms it. The SVG diagrams
   are drawn to be read at the column's width and stay as they are. At desktop width the
   wrapper has no box of its own (display: contents), so nothing changes there. */
(function () {
  "use strict";
  const PHONE = window.matchMedia("(max-width: 600px)");

  const mark = (box) => ganlabMarkScrolling(box, "the whole figure");

  function wrap(img) {
    // a vector diagram (book/figures/*.svg) is drawn to be read at the column's width
    if (img.closest(".ganlab-figure-scroll, .animation") || /\.svg$/i.test(img.src)) return;
    const box = document.createElement("div");
    box.className = "ganlab-figure-scroll";
    img.before(box);
    box.append(img);
    img.addEventListener("click", () => {
      if (PHONE.matches) window.location.href = img.currentSrc || img.src;
    });
    const natural = () => {
      if (!img.naturalWidth) return;
      img.style.setProperty("--ganlab-natural-width", `${img.naturalWidth}px`);
      mark(box);
    };
    if (img.complete) natural();
    else img.addEventListener("load", natural);
  }

  function setUp() {
    document.querySelectorAll(".bd-article figure > img").forEach(wrap);
    PHONE.addEventListener("change", () =>
      document.querySelectorAll(".ganlab-figure-scroll").forEach(mark));
    window.addEventListener("resize", () =>
      document.querySelectorAll(".ganlab-figure-scroll").forEach(mark));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();

/* An inline formula wider than its line (a long one in a phone's column) gets a line of its
   own, where it scrolls sideways with its scrollbar below it as a display equation does,
   instead of showing its first part cut at the column's edge with the sentence going on
   after it. Measured once MathJax has typeset the page. */
(function () {
  "use strict";
  function widen() {
    document.querySelectorAll(".bd-article .ganlab-wide-math").forEach((box) =>
      box.classList.remove("ganlab-wide-math", "ganlab-scrolls"));
    document.querySelectorAll(".bd-article span.math").forEach((math) => {
      // cut: wider than its box by more than MathJax's rounding, and as wide as its line
      const line = math.closest("p, li, dd, td, th, div");
      const cut = math.scrollWidth > math.clientWidth + 4;
      if (!cut || !line || math.scrollWidth < 0.6 * line.clientWidth) return;
      const glued = math.parentElement.classList.contains("ganlab-nobreak");
      (glued ? math.parentElement : math).classList.add("ganlab-wide-math");
    });
    document.querySelectorAll(".bd-article :is(table, .ganlab-wide-math)")
      .forEach((box) => ganlabMarkScrolling(box, "the rest"));
  }
  function whenTypeset() {
    const startup = window.MathJax && window.MathJax.startup;
    if (startup && startup.promise) startup.promise.then(widen);
    else setTimeout(whenTypeset, 200);
  }
  whenTypeset();
  // again when the width changes, and when a dropdown opens (a Solution's formulas have no
  // width while it is closed): a details element's toggle, or a click on a toggle button
  let pending = null;
  const later = () => {
    clearTimeout(pending);
    pending = setTimeout(widen, 150);
  };
  window.addEventListener("resize", later);
  document.addEventListener("toggle", later, true);
  document.addEventListener("click", later);
})();
