// The event form's recurrence picker, progressive enhancement only: without this file every
// field is shown and the server reads only those that apply. With it, only the fields of
// the chosen frequency are shown, the unit follows the number ("1 week", "2 weeks"), the
// monthly choices name the start's day and weekday, and typing an end date or a count
// chooses that end. All words come from the server (#recurrence-data), in the reader's
// language.
"use strict";

(() => {
  const box = document.querySelector("[data-recurrence]");
  const source = document.getElementById("recurrence-data");
  if (!box || !source) return;
  const data = JSON.parse(source.textContent);
  const repeat = document.getElementById("repeat");
  const interval = document.getElementById("repeat_interval");
  const unit = document.getElementById("repeat-unit");
  const monthly = document.getElementById("repeat_monthly");
  const start = document.getElementById("starts_at");
  const until = document.getElementById("repeat_until");
  const count = document.getElementById("repeat_count");
  const codes = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

  // The start as a local calendar date, or null while it is empty or half typed.
  const startDay = () => {
    const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(start ? start.value : "");
    if (!match) return null;
    const day = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    return Number.isNaN(day.getTime()) ? null : day;
  };

  const showFields = () => {
    box.querySelectorAll("[data-show]").forEach((part) => {
      part.hidden = !part.dataset.show.split(" ").includes(repeat.value);
    });
  };

  const showUnit = () => {
    const units = data.units[repeat.value];
    const n = parseInt(interval.value, 10);
    if (units && n >= 1 && n <= units.length) unit.textContent = units[n - 1];
  };

  const showMonthlyChoices = () => {
    const day = startDay();
    if (!day || !monthly) return;
    const weekday = (day.getDay() + 6) % 7; // Monday is 0, as in RFC 5545's order
    const nth = Math.floor((day.getDate() - 1) / 7) + 1;
    const next = new Date(day.getFullYear(), day.getMonth(), day.getDate() + 7);
    const choices = [["day", data.day.replace("{day}", String(day.getDate()))]];
    if (nth <= 4) choices.push(["nth", data.nth[String(nth)][weekday]]);
    if (next.getMonth() !== day.getMonth()) choices.push(["last", data.nth["-1"][weekday]]);
    const chosen = monthly.value;
    monthly.replaceChildren(...choices.map(([value, label]) => new Option(label, value)));
    monthly.value = choices.some(([value]) => value === chosen) ? chosen : "day";
    if (until) {
      const pad = (n) => String(n).padStart(2, "0");
      until.min = `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
    }
  };

  // A weekly series with no day ticked gets the start's weekday ticked, as the server would.
  const tickStartDay = () => {
    const day = startDay();
    if (repeat.value !== "weekly" || !day) return;
    const boxes = box.querySelectorAll("input[name='repeat_weekdays']");
    if ([...boxes].some((b) => b.checked)) return;
    const mine = document.getElementById(`repeat_weekday_${codes[(day.getDay() + 6) % 7]}`);
    if (mine) mine.checked = true;
  };

  const chooseEnd = (value) => () => {
    const radio = document.getElementById(`repeat_ends_${value}`);
    if (radio) radio.checked = true;
  };

  repeat.addEventListener("change", () => { showFields(); showUnit(); tickStartDay(); });
  interval.addEventListener("input", showUnit);
  if (start) start.addEventListener("change", showMonthlyChoices);
  if (until) until.addEventListener("input", chooseEnd("until"));
  if (count) count.addEventListener("input", chooseEnd("count"));
  showFields();
  showUnit();
  showMonthlyChoices();
})();
