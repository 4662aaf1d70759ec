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
  // Select boxes that submit their form when changed (language switcher, sort order).
  document.querySelectorAll("select.js-autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});
