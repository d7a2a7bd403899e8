// Draws stream frames on a canvas. A frame is a JPEG as binary (ArrayBuffer) or as a base64
// string (with or without a data: prefix). Decoding is asynchronous: while one frame decodes,
// only the newest waiting frame is kept, so a slow tab skips frames instead of piling them up.
(function () {
  'use strict';
  function FramePainter(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.busy = false;
    this.next = null;
    this.drawn = 0;
    this.skipped = 0;
  }
  FramePainter.prototype.show = function (data) {
    if (this.busy) {
      if (this.next !== null) this.skipped += 1;
      this.next = data;
      return;
    }
    this.busy = true;
    var self = this;
    decode(data).then(function (img) {
      var c = self.canvas;
      var w = img.width, h = img.height;
      if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
      self.ctx.drawImage(img, 0, 0);
      if (img.close) img.close();
      self.drawn += 1;
    }).catch(function () { self.skipped += 1; }).then(function () {
      self.busy = false;
      if (self.next !== null) {
        var n = self.next;
        self.next = null;
        self.show(n);
      }
    });
  };
  function decode(data) {
    if (typeof data === 'string') {
      var src = data.indexOf('data:') === 0 ? data : 'data:image/jpeg;base64,' + data;
      return new Promise(function (resolve, reject) {
        var img = new Image();
        img.onload = function () { resolve(img); };
        img.onerror = reject;
        img.src = src;
      });
    }
    return createImageBitmap(new Blob([data], { type: 'image/jpeg' }));
  }
  window.FramePainter = FramePainter;
})();
