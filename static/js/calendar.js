/* Calendar: the participation chart (Chart.js, vendored). Data comes from the JSON block
   next to the canvas; the same figures are in the table below it. */
(function () {
  "use strict";
  function drawParticipation() {
    var canvas = document.getElementById("participation-chart");
    var source = document.getElementById("participation-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    canvas.chart = new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.label_attending, data: data.attending, backgroundColor: "#1f5f99", yAxisID: "y" },
          { label: data.label_capital, data: data.capital, backgroundColor: "#6aa84f", yAxisID: "y" },
          { label: data.label_share, data: data.share, type: "line", borderColor: "#b45f06",
            backgroundColor: "#b45f06", yAxisID: "share" }
        ]
      },
      options: {
        responsive: true,
        animation: false,
        scales: {
          // Counts of states: whole numbers only, not 0.1 … 1.0 when the largest is 1.
          y: { beginAtZero: true, position: "left", ticks: { precision: 0 } },
          share: { beginAtZero: true, max: 100, position: "right", grid: { drawOnChartArea: false } }
        }
      }
    });
    canvas.setAttribute("data-rendered", "true");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawParticipation);
  } else {
    drawParticipation();
  }
})();
