// @ts-check
// The browser-side script of the HTML report, inlined into the report by scripts/build.mjs (see ../html-client.ts).
// It reads the chart data from the inert <script type="application/json"> block and draws with the
// inlined Chart.js. Everything it draws goes to <canvas>, so user strings never reach the DOM as HTML.
/* global Chart */
(function () {
  'use strict';
  var el = document.getElementById('tunelab-data');
  if (!el || typeof Chart === 'undefined') return;
  var data = JSON.parse(el.textContent || '{}');
  var arms = data.arms || [];

  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  Chart.defaults.font.size = 12;
  Chart.defaults.color = '#334155';
  Chart.defaults.borderColor = 'rgba(148,163,184,0.25)';
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;

  function fmt(x, d) {
    return typeof x === 'number' && isFinite(x) ? x.toFixed(d === undefined ? 3 : d) : '-';
  }
  function signed(x) {
    var s = fmt(x);
    return x > 0 && Number(s) !== 0 ? '+' + s : s;
  }
  function ci(c, sign) {
    return c ? '[' + (sign ? signed(c[0]) : fmt(c[0])) + ', ' + (sign ? signed(c[1]) : fmt(c[1])) + ']' : '';
  }
  function usd(x) {
    if (!(typeof x === 'number' && isFinite(x))) return '-';
    if (x === 0) return '$0';
    if (x >= 1) return '$' + x.toFixed(2);
    var d = Math.min(4, Math.max(2, 1 - Math.floor(Math.log10(x))));
    return '$' + x.toFixed(d);
  }
  function ms(x) {
    return x < 1000 ? Math.round(x) + ' ms' : (x / 1000).toFixed(2) + ' s';
  }
  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + ((n >> 16) & 255) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }

  // Error bars: datasets carry errorBars[i] = [lo, hi] (or null); drawn along the value axis.
  var errorBars = {
    id: 'errorBars',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.data.datasets.forEach(function (ds, di) {
        if (!ds.errorBars) return;
        var meta = chart.getDatasetMeta(di);
        if (meta.hidden) return;
        var horizontal = chart.options.indexAxis === 'y' && meta.type === 'bar';
        var scale = chart.scales[horizontal ? meta.xAxisID : meta.yAxisID];
        ctx.save();
        ctx.strokeStyle = ds.errorBarColor || '#0f172a';
        ctx.lineWidth = 1.5;
        meta.data.forEach(function (pt, i) {
          var eb = ds.errorBars[i];
          if (!eb || !isFinite(eb[0]) || !isFinite(eb[1])) return;
          var a = scale.getPixelForValue(eb[0]),
            b = scale.getPixelForValue(eb[1]);
          var cap = 5;
          ctx.beginPath();
          if (horizontal) {
            ctx.moveTo(a, pt.y);
            ctx.lineTo(b, pt.y);
            ctx.moveTo(a, pt.y - cap);
            ctx.lineTo(a, pt.y + cap);
            ctx.moveTo(b, pt.y - cap);
            ctx.lineTo(b, pt.y + cap);
          } else {
            ctx.moveTo(pt.x, a);
            ctx.lineTo(pt.x, b);
            ctx.moveTo(pt.x - cap, a);
            ctx.lineTo(pt.x + cap, a);
            ctx.moveTo(pt.x - cap, b);
            ctx.lineTo(pt.x + cap, b);
          }
          ctx.stroke();
        });
        ctx.restore();
      });
    },
  };

  // The chart's canvas, saved (the caller restores it) and set up for 12px labels in the given colour.
  function textContext(chart, color) {
    var ctx = chart.ctx;
    ctx.save();
    ctx.font = '12px ' + Chart.defaults.font.family;
    ctx.fillStyle = color;
    ctx.textBaseline = 'middle';
    return ctx;
  }

  // Point labels for the scatter: the arm name next to its point (canvas text, not HTML), placed
  // greedily where it overlaps no other label or point; a label with no free place is left out (the
  // legend, shown then, and the tooltip still name it).
  var pointLabels = {
    id: 'pointLabels',
    afterDatasetsDraw: function (chart) {
      var ctx = textContext(chart, '#0f172a');
      var placed = [],
        h = 14,
        skipped = 0;
      var pts = [];
      chart.data.datasets.forEach(function (ds, di) {
        var meta = chart.getDatasetMeta(di);
        if (meta.hidden || !ds.pointLabel) return;
        meta.data.forEach(function (pt) {
          pts.push({ x: pt.x, y: pt.y, text: ds.pointLabel });
          placed.push({ x: pt.x - 7, y: pt.y - 7, w: 14, h: 14 });
        });
      });
      function free(r) {
        if (r.x < 0 || r.x + r.w > chart.width || r.y < chart.chartArea.top - 14 || r.y + r.h > chart.chartArea.bottom) return false;
        for (var i = 0; i < placed.length; i++) {
          var q = placed[i];
          if (r.x < q.x + q.w && r.x + r.w > q.x && r.y < q.y + q.h && r.y + r.h > q.y) return false;
        }
        return true;
      }
      pts.forEach(function (p) {
        var text = p.text.length > 28 ? p.text.slice(0, 27) + '\u2026' : p.text;
        var w = ctx.measureText(text).width + 4;
        var tries = [
          [10, -16],
          [10, 2],
          [-10 - w, -16],
          [-10 - w, 2],
          [10, -30],
          [-10 - w, -30],
          [10, 16],
          [-10 - w, 16],
          [-w / 2, -30],
          [-w / 2, 14],
        ];
        for (var i = 0; i < tries.length; i++) {
          var r = { x: p.x + tries[i][0], y: p.y + tries[i][1], w: w, h: h };
          if (free(r)) {
            placed.push(r);
            ctx.textAlign = 'left';
            ctx.fillText(text, r.x + 2, r.y + h / 2);
            return;
          }
        }
        skipped++;
      });
      ctx.restore();
      if (skipped && !chart.options.plugins.legend.display) {
        chart.options.plugins.legend.display = true;
        chart.options.plugins.legend.position = 'bottom';
        setTimeout(function () {
          chart.update();
        }, 0);
      }
    },
  };

  // Value labels to the right of a horizontal interval (ds.labelAt[i] = where it ends, in data units).
  var valueLabels = {
    id: 'valueLabels',
    afterDatasetsDraw: function (chart) {
      var ctx = textContext(chart, '#334155');
      ctx.textAlign = 'left';
      chart.data.datasets.forEach(function (ds, di) {
        if (!ds.valueLabels) return;
        var meta = chart.getDatasetMeta(di);
        if (meta.hidden) return;
        var scale = chart.scales[meta.xAxisID];
        meta.data.forEach(function (pt, i) {
          var text = ds.valueLabels[i];
          if (!text) return;
          var at = ds.labelAt && isFinite(ds.labelAt[i]) ? scale.getPixelForValue(ds.labelAt[i]) : pt.x;
          ctx.fillText(text, Math.max(at, pt.x) + 10, pt.y);
        });
      });
      ctx.restore();
    },
  };

  var names = arms.map(function (a) {
    return a.name;
  });
  var colors = arms.map(function (a) {
    return a.color;
  });
  /** The canvas with this id (callers check that it exists before drawing). @param {string} id */
  function canvas(id) {
    return /** @type {HTMLCanvasElement} */ (document.getElementById(id));
  }

  // 1. metric with 95% intervals per arm: a dot at the value on a band spanning the interval.
  // The axis is zoomed to the data (said in its title) so that intervals can be told apart.
  if (canvas('chart-metric') && arms.length) {
    var los = [],
      his = [];
    arms.forEach(function (a) {
      if (a.value === null) return;
      los.push(a.ci ? Math.min(a.ci[0], a.value) : a.value);
      his.push(a.ci ? Math.max(a.ci[1], a.value) : a.value);
    });
    var lo = los.length ? Math.min.apply(null, los) : 0,
      hi = his.length ? Math.max.apply(null, his) : 1;
    var span = Math.max(hi - lo, 0.02);
    var xmin = lo - span * 0.12,
      xmax = hi + span * 0.12;
    var unit = lo >= 0 && hi <= 1;
    if (unit) {
      xmin = Math.max(0, xmin);
      xmax = Math.min(1, xmax);
    }
    var zoomed = xmin > 0;
    new Chart(canvas('chart-metric'), {
      type: 'bar',
      data: {
        labels: names,
        datasets: [
          {
            type: 'bar',
            label: '95% interval',
            data: arms.map(function (a) {
              return a.ci ? [a.ci[0], a.ci[1]] : null;
            }),
            backgroundColor: colors.map(function (c) {
              return alpha(c, 0.22);
            }),
            borderColor: colors.map(function (c) {
              return alpha(c, 0.9);
            }),
            borderWidth: 1,
            borderSkipped: false,
            borderRadius: 4,
            barThickness: 16,
            order: 2,
          },
          {
            type: 'line',
            label: data.metric,
            data: arms.map(function (a) {
              return a.value;
            }),
            showLine: false,
            pointRadius: 6,
            pointHoverRadius: 8,
            pointStyle: arms.map(function (a) {
              return a.finetuned ? 'rectRot' : 'circle';
            }),
            pointBackgroundColor: colors,
            pointBorderColor: '#ffffff',
            pointBorderWidth: 1.5,
            clip: 10,
            valueLabels: arms.map(function (a) {
              return fmt(a.value) + '  ' + ci(a.ci);
            }),
            labelAt: arms.map(function (a) {
              return a.ci ? Math.max(a.ci[1], a.value) : a.value;
            }),
            order: 1,
          },
        ],
      },
      options: {
        indexAxis: 'y',
        layout: { padding: { right: 150 } },
        scales: {
          x: {
            beginAtZero: false,
            suggestedMin: xmin,
            suggestedMax: xmax,
            min: xmin <= 0 ? 0 : undefined,
            max: unit && xmax >= 0.99 ? 1 : undefined,
            title: { display: true, text: data.metric + (zoomed ? ' (axis zoomed; band: 95% interval)' : ' (band: 95% interval)') },
          },
          y: { grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (c) {
                var a = arms[c.dataIndex];
                return data.metric + ' ' + fmt(a.value) + ' ' + ci(a.ci) + '  n=' + a.n;
              },
            },
          },
        },
      },
      plugins: [valueLabels],
    });
  }

  // 2. cost vs quality
  if (canvas('chart-cost') && arms.length) {
    var costs = arms
      .map(function (a) {
        return a.costPer1k;
      })
      .filter(function (x) {
        return x > 0;
      });
    var logX = costs.length === arms.length && costs.length > 1 && Math.max.apply(null, costs) / Math.min.apply(null, costs) > 50;
    var cmax = costs.length ? Math.max.apply(null, costs) : 1,
      cmin = costs.length ? Math.min.apply(null, costs) : 0;
    var ylo = [],
      yhi = [];
    arms.forEach(function (a) {
      if (a.value !== null) {
        ylo.push(a.ci ? Math.min(a.ci[0], a.value) : a.value);
        yhi.push(a.ci ? Math.max(a.ci[1], a.value) : a.value);
      }
    });
    var ymin = ylo.length ? Math.min.apply(null, ylo) : 0,
      ymax = yhi.length ? Math.max.apply(null, yhi) : 1;
    var ypad = Math.max(ymax - ymin, 0.02) * 0.08;
    new Chart(canvas('chart-cost'), {
      type: 'scatter',
      data: {
        datasets: arms.map(function (a) {
          return {
            label: a.name,
            data: [{ x: a.costPer1k, y: a.value }],
            backgroundColor: a.color,
            borderColor: a.color,
            pointRadius: 7,
            pointHoverRadius: 9,
            pointStyle: a.finetuned ? 'rectRot' : 'circle',
            errorBars: [a.ci],
            errorBarColor: a.color,
            pointLabel: a.name,
            clip: 10,
          };
        }),
      },
      options: {
        layout: { padding: { top: 16, right: 90 } },
        scales: {
          x: {
            type: logX ? 'logarithmic' : 'linear',
            beginAtZero: !logX,
            min: logX ? cmin / 1.6 : undefined,
            max: logX ? cmax * 1.6 : undefined,
            suggestedMax: logX ? undefined : cmax * 1.1,
            title: { display: true, text: 'cost per 1,000 requests (USD)' },
            ticks: {
              maxRotation: 0,
              autoSkipPadding: 12,
              callback: function (v) {
                v = Number(v);
                if (!logX) return usd(v);
                var m = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
                return Math.abs(m - 1) < 1e-6 || Math.abs(m - 2) < 1e-6 || Math.abs(m - 5) < 1e-6 ? usd(v) : '';
              },
            },
          },
          y: {
            suggestedMin: ymin - ypad,
            suggestedMax: ymax + ypad,
            max: ymin >= 0 && ymax <= 1 && ymax + ypad > 1 ? 1 : undefined,
            min: ymin >= 0 && ymin - ypad < 0 ? 0 : undefined,
            title: { display: true, text: data.metric },
          },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (c) {
                var a = arms[c.datasetIndex];
                return a.name + ': ' + fmt(a.value) + ' ' + ci(a.ci) + ', ' + usd(a.costPer1k) + ' / 1k';
              },
            },
          },
        },
      },
      plugins: [errorBars, pointLabels],
    });
  }

  // 3. latency p50 / p95
  if (canvas('chart-latency') && arms.length) {
    new Chart(canvas('chart-latency'), {
      type: 'bar',
      data: {
        labels: names,
        datasets: [
          {
            label: 'p50',
            data: arms.map(function (a) {
              return a.p50;
            }),
            backgroundColor: colors.map(function (c) {
              return alpha(c, 0.85);
            }),
            borderRadius: 3,
            maxBarThickness: 18,
          },
          {
            label: 'p95',
            data: arms.map(function (a) {
              return a.p95;
            }),
            backgroundColor: colors.map(function (c) {
              return alpha(c, 0.35);
            }),
            borderColor: colors,
            borderWidth: 1,
            borderRadius: 3,
            maxBarThickness: 18,
          },
        ],
      },
      options: {
        indexAxis: 'y',
        scales: { x: { beginAtZero: true, title: { display: true, text: 'latency per request (ms)' } }, y: { grid: { display: false } } },
        plugins: {
          legend: {
            display: true,
            position: 'bottom',
            labels: {
              generateLabels: function () {
                return [
                  {
                    text: 'p50 (solid)',
                    fillStyle: 'rgba(71,85,105,0.85)',
                    strokeStyle: 'rgba(71,85,105,1)',
                    lineWidth: 1,
                    datasetIndex: 0,
                  },
                  {
                    text: 'p95 (light)',
                    fillStyle: 'rgba(71,85,105,0.3)',
                    strokeStyle: 'rgba(71,85,105,1)',
                    lineWidth: 1,
                    datasetIndex: 1,
                  },
                ];
              },
            },
          },
          tooltip: {
            callbacks: {
              label: function (c) {
                return c.dataset.label + ': ' + ms(c.parsed.x);
              },
            },
          },
        },
      },
    });
  }

  // 4. paired differences against the baseline
  var cmps = data.comparisons || [];
  if (canvas('chart-diff') && cmps.length) {
    var vcol = { better: '#16a34a', worse: '#dc2626', unclear: '#94a3b8' };
    var dlo = 0,
      dhi = 0;
    cmps.forEach(function (c) {
      [c.diff, c.ci ? c.ci[0] : c.diff, c.ci ? c.ci[1] : c.diff].forEach(function (x) {
        if (isFinite(x)) {
          dlo = Math.min(dlo, x);
          dhi = Math.max(dhi, x);
        }
      });
    });
    var dpad = Math.max(dhi - dlo, 0.02) * 0.06;
    new Chart(canvas('chart-diff'), {
      type: 'bar',
      data: {
        labels: cmps.map(function (c) {
          return c.arm;
        }),
        datasets: [
          {
            label: 'difference',
            data: cmps.map(function (c) {
              return c.diff;
            }),
            backgroundColor: cmps.map(function (c) {
              return alpha(vcol[c.verdict], 0.7);
            }),
            borderColor: cmps.map(function (c) {
              return vcol[c.verdict];
            }),
            borderWidth: 1,
            borderRadius: 3,
            errorBars: cmps.map(function (c) {
              return c.ci;
            }),
            maxBarThickness: 30,
          },
        ],
      },
      options: {
        indexAxis: 'y',
        scales: {
          x: {
            suggestedMin: dlo < 0 ? dlo - dpad : 0,
            suggestedMax: dhi > 0 ? dhi + dpad : 0,
            title: { display: true, text: 'difference in ' + data.metric + ' vs ' + (data.baseline || 'baseline') + ' (95% interval)' },
            grid: {
              color: function (c) {
                return c.tick && c.tick.value === 0 ? '#0f172a' : 'rgba(148,163,184,0.25)';
              },
            },
          },
          y: { grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (c) {
                var x = cmps[c.dataIndex];
                return signed(x.diff) + ' ' + ci(x.ci, true) + ', p=' + (x.p < 0.001 ? '<0.001' : fmt(x.p));
              },
            },
          },
        },
      },
      plugins: [errorBars],
    });
  }
  document.documentElement.setAttribute('data-charts', String(Object.keys(Chart.instances).length));
})();
