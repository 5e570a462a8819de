// The console's only script: draws the overview charts (uPlot, served by the console) and
// refreshes the feed while it is open. Pages work without it.

const PALETTE = [
  '#1f5fbf',
  '#c0392b',
  '#2e8540',
  '#8e44ad',
  '#d35400',
  '#16a085',
  '#7f6000',
  '#555',
];

function drawCharts() {
  if (typeof uPlot === 'undefined') return;
  for (const figure of document.querySelectorAll('[data-chart]')) {
    const data = JSON.parse(figure.dataset.chart);
    if (data.series.length === 0) continue;
    const options = {
      width: Math.max(320, figure.clientWidth),
      height: 220,
      series: [
        {},
        ...data.series.map((series, index) => ({
          label: series.name,
          stroke: PALETTE[index % PALETTE.length],
          width: 2,
        })),
      ],
      scales: { x: { time: true } },
      axes: [{}, { label: 'events per hour' }],
    };
    new uPlot(options, [data.hours, ...data.series.map((series) => series.values)], figure);
  }
}

/** Replaces the feed's results with a fresh copy of the same URL, every few seconds. */
function refreshFeed() {
  const results = document.getElementById('feed-results');
  if (results === null || !results.dataset.refresh) return;
  const interval = Number(results.dataset.refresh);
  const tick = async () => {
    if (document.visibilityState === 'visible') {
      try {
        const response = await fetch(location.href, { headers: { Accept: 'text/html' } });
        if (response.ok) {
          const fresh = new DOMParser()
            .parseFromString(await response.text(), 'text/html')
            .getElementById('feed-results');
          const current = document.getElementById('feed-results');
          if (fresh !== null && current !== null) current.replaceWith(fresh);
        }
      } catch {
        // The stack may be restarting: the next tick tries again.
      }
    }
    setTimeout(tick, interval);
  };
  setTimeout(tick, interval);
}

drawCharts();
refreshFeed();
