// A synthetic video source for the streamer page: moving shapes, a clock and a frame counter,
// drawn on a canvas. Used when there is no camera, or with ?synthetic=1.
(function () {
  'use strict';
  function SyntheticSource(width, height) {
    this.width = width;
    this.height = height;
    this.frame = 0;
    this.start = performance.now();
  }
  SyntheticSource.prototype.draw = function (ctx) {
    var w = this.width, h = this.height, t = (performance.now() - this.start) / 1000;
    this.frame += 1;
    var g = ctx.createLinearGradient(0, 0, w, h);
    g.addColorStop(0, 'hsl(' + ((t * 20) % 360) + ', 55%, 22%)');
    g.addColorStop(1, 'hsl(' + ((t * 20 + 140) % 360) + ', 55%, 12%)');
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, w, h);
    // Bouncing balls
    var colors = ['#f85149', '#3fb950', '#58a6ff', '#d29922'];
    for (var i = 0; i < 4; i++) {
      var px = (Math.sin(t * (0.7 + i * 0.23) + i) * 0.5 + 0.5) * (w - 80) + 40;
      var py = Math.abs(Math.sin(t * (1.3 + i * 0.17) + i * 2)) * (h - 120) + 40;
      ctx.beginPath();
      ctx.arc(px, py, 26 + i * 6, 0, Math.PI * 2);
      ctx.fillStyle = colors[i];
      ctx.fill();
    }
    // A rotating square
    ctx.save();
    ctx.translate(w / 2, h / 2);
    ctx.rotate(t);
    ctx.strokeStyle = '#e6edf3';
    ctx.lineWidth = 6;
    ctx.strokeRect(-60, -60, 120, 120);
    ctx.restore();
    // Clock and counter
    var now = new Date();
    var clock = now.toTimeString().slice(0, 8) + '.' + String(now.getMilliseconds()).padStart(3, '0');
    ctx.fillStyle = 'rgba(0,0,0,.55)';
    ctx.fillRect(0, h - 56, w, 56);
    ctx.fillStyle = '#fff';
    ctx.font = 'bold 30px ui-monospace, monospace';
    ctx.textBaseline = 'middle';
    ctx.fillText(clock, 16, h - 28);
    ctx.textAlign = 'right';
    ctx.font = '20px ui-monospace, monospace';
    ctx.fillText('frame ' + this.frame, w - 16, h - 28);
    ctx.textAlign = 'left';
    ctx.font = 'bold 22px system-ui, sans-serif';
    ctx.fillText('STREAM FIGHTER · synthetic', 16, 28);
  };
  window.SyntheticSource = SyntheticSource;
})();
