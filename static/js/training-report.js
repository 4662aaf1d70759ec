// Charts of a training programme's report, drawn from the JSON block the page carries
// (CSP forbids inline script). Every chart has a data table next to it on the page.
"use strict";

(() => {
  const source = document.getElementById("report-data");
  if (!source || typeof Chart !== "function") return;
  const data = JSON.parse(source.textContent);
  const colours = ["#1f5f8b", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#16a085", "#7f8c8d"];
  document.querySelectorAll("canvas.js-report-chart").forEach((canvas) => {
    const series = data[canvas.dataset.series];
    if (!series) return;
    const pie = canvas.dataset.series === "gender";
    new Chart(canvas, {
      type: pie ? "doughnut" : "bar",
      data: {
        labels: series.labels,
        datasets: [
          {
            label: series.label,
            data: series.values,
            backgroundColor: pie ? colours : colours[0],
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: pie } },
        scales: pie ? {} : { y: { beginAtZero: true } },
      },
    });
  });
})();
