// Charts of a training programme's report, drawn from the JSON block the page carries
// (CSP forbids inline script). Every chart has a data table next to it on the page.
// Words (dataset labels, axis titles) come translated from the server; numbers are written
// by the browser in the locale the server names, so ticks and tooltips use the digits,
// decimal sign and grouping of the tables. On a right-to-left page the charts read from
// the right: categories start there, value axes stand there, legends and tooltips are rtl.
"use strict";

(() => {
  const source = document.getElementById("report-data");
  if (!source || typeof Chart !== "function") return;
  const data = JSON.parse(source.textContent);
  const locale = data.locale || document.documentElement.lang || undefined;
  const rtl = document.documentElement.dir === "rtl";
  const direction = rtl ? "rtl" : "ltr";
  const colours = ["#1f5f8b", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#16a085", "#7f8c8d"];
  // Pre-test then post-test: grey then the brand blue, told apart by lightness as well.
  const pairColours = ["#7f8c8d", "#1f5f8b"];
  const percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 1 });
  const asPercent = (value) => percent.format(value / 100);
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;

  // A name may be in another script than the page (a French cohort title on an Arabic
  // page): each line is isolated (FSI ... PDI) so that its punctuation stays in place.
  const isolate = (text) => `\u2068${text}\u2069`;
  const wrap = (text, width) => {
    const lines = [];
    for (const word of String(text).split(/\s+/)) {
      const last = lines.length - 1;
      if (last >= 0 && lines[last].length + 1 + word.length <= width) {
        lines[last] += ` ${word}`;
      } else {
        lines.push(word);
      }
    }
    return lines.map(isolate);
  };

  document.querySelectorAll("canvas.js-report-chart").forEach((canvas) => {
    const series = (data.charts || {})[canvas.dataset.series];
    if (!series) return;
    const pie = canvas.dataset.series === "gender";
    // Horizontal bars keep long names readable beside them, wrapped over lines; the chart
    // grows with their number and their lines, so that every name is shown (a group of
    // two bars, pre- and post-test, per cohort).
    const horizontal = Boolean(series.horizontal);
    const paired = series.datasets.length > 1;
    const box = canvas.parentElement;
    const width = box.clientWidth < 520 ? 16 : 26;
    const labels = series.labels.map((label) => (horizontal ? wrap(label, width) : isolate(label)));
    if (horizontal) {
      const least = paired ? 3 : 2;
      const rows = labels.reduce((sum, lines) => sum + Math.max(least, lines.length + 1), 0);
      box.style.height = `${Math.max(200, 90 + rows * 15)}px`;
    }
    const datasets = series.datasets.map((set, index) => ({
      label: set.label,
      data: set.values,
      backgroundColor: pie ? colours : paired ? pairColours[index % 2] : colours[0],
    }));
    const valueAxis = {
      beginAtZero: true,
      ...(series.percent ? { max: 100 } : {}),
      reverse: rtl && horizontal,
      position: horizontal ? "bottom" : rtl ? "right" : "left",
      title: { display: true, text: series.value_title },
      ticks: series.percent ? { callback: (value) => asPercent(value) } : { precision: 0 },
    };
    const categoryAxis = {
      reverse: rtl && !horizontal,
      position: horizontal ? (rtl ? "right" : "left") : "bottom",
      title: { display: true, text: series.category_title },
      grid: { display: false },
      ticks: { autoSkip: false },
    };
    const scales = horizontal
      ? { x: valueAxis, y: categoryAxis }
      : { x: categoryAxis, y: valueAxis };
    const tooltip = {
      rtl,
      textDirection: direction,
      // The whole name on one line (a wrapped tick label would come joined with commas).
      callbacks: {
        title: (items) => (items.length ? isolate(series.labels[items[0].dataIndex]) : ""),
      },
    };
    if (series.percent) {
      tooltip.callbacks.label = (item) =>
        `${item.dataset.label}: ${asPercent(item.parsed[horizontal ? "x" : "y"])}`;
    }
    new Chart(canvas, {
      type: pie ? "doughnut" : "bar",
      data: { labels, datasets },
      options: {
        locale,
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        plugins: {
          legend: { display: pie || paired, rtl, textDirection: direction },
          tooltip,
        },
        scales: pie ? {} : scales,
      },
    });
  });
})();
