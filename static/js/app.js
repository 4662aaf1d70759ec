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
  // Long multiple-choice lists (languages, countries): a filter box above, and the
  // chosen values spelled out below, since most of the list is out of view.
  document.querySelectorAll("select[multiple][data-filter-placeholder]").forEach((select) => {
    if (select.options.length < 15) return;
    const filter = document.createElement("input");
    filter.type = "search";
    filter.className = "multi-filter";
    filter.placeholder = select.dataset.filterPlaceholder;
    filter.setAttribute("aria-label", `${select.dataset.filterPlaceholder}: ${select.labels[0]?.textContent || ""}`);
    select.before(filter);
    const chosen = document.createElement("p");
    chosen.className = "hint multi-chosen";
    chosen.setAttribute("aria-live", "polite");
    select.after(chosen);
    const show = () => {
      const names = Array.from(select.selectedOptions, (option) => option.textContent);
      chosen.textContent = `${select.dataset.chosenLabel} ${names.length ? names.join(", ") : select.dataset.noneLabel}`;
    };
    filter.addEventListener("input", () => {
      const query = filter.value.trim().toLocaleLowerCase();
      for (const option of select.options) {
        option.hidden = query !== "" && !option.selected && !option.textContent.toLocaleLowerCase().includes(query);
      }
    });
    select.addEventListener("change", show);
    show();
  });
  // Select boxes that submit their form when changed (language switcher, sort order).
  document.querySelectorAll("select.js-autosubmit").forEach((select) => {
    select.addEventListener("change", () => select.form.requestSubmit());
  });
});
