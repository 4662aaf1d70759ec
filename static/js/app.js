// Progressive enhancement only: every page works without this file.
"use strict";

document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      nav.classList.toggle("open", !open);
    });
  }
  // Directory filters: always open on wide screens. On phones they sit above the
  // results, folded to one "Filters" line so the results stay in view.
  const facets = document.querySelector("details.facets-panel");
  if (facets) {
    const narrow = window.matchMedia("(max-width: 800px)");
    const fit = () => { facets.open = !narrow.matches; };
    fit();
    narrow.addEventListener("change", fit);
  }
  // Select boxes that submit their form when changed (language switcher, sort order).
  document.querySelectorAll("select.js-autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});
