// artengine gallery: lightbox with keyboard navigation, training-timeline scrubber, before/after slider.
// Plain JavaScript, no libraries, works from file:// (no server, nothing fetched).
(function () {
  'use strict';

  // -- lightbox: every [data-lb] image; arrows move, Escape closes ------------------------------
  var items = Array.prototype.slice.call(document.querySelectorAll('[data-lb]'));
  var box = document.createElement('div');
  box.id = 'lightbox';
  box.setAttribute('role', 'dialog');
  box.setAttribute('aria-label', 'image viewer');
  box.innerHTML = '<button class="close" title="close (Esc)">&times;</button>' +
    '<button class="nav prev" title="previous (←)">&#8249;</button><img alt="">' +
    '<div class="caption"></div><button class="nav next" title="next (→)">&#8250;</button>';
  document.body.appendChild(box);
  var big = box.querySelector('img'), caption = box.querySelector('.caption'), current = -1;

  function fit() {
    // Small generator outputs are enlarged by a whole factor, so pixels stay square and sharp.
    if (!big.naturalWidth) return;
    var maxW = window.innerWidth * 0.94, maxH = window.innerHeight * 0.8;
    var scale = Math.min(maxW / big.naturalWidth, maxH / big.naturalHeight);
    if (big.classList.contains('px') && scale >= 1) scale = Math.floor(scale);
    big.style.width = Math.round(big.naturalWidth * scale) + 'px';
    big.style.height = 'auto';
  }
  function show(i) {
    if (!items.length) return;
    current = (i + items.length) % items.length;
    var el = items[current];
    big.className = ['px', 'alpha'].filter(function (c) { return el.classList.contains(c); }).join(' ');
    big.onload = fit;
    big.src = el.getAttribute('data-full') || el.getAttribute('src');
    big.alt = el.getAttribute('alt') || '';
    caption.textContent = el.getAttribute('data-caption') || el.getAttribute('alt') || '';
    box.classList.add('open');
    box.setAttribute('data-index', String(current));
    if (big.complete) fit();
  }
  function close() { box.classList.remove('open'); current = -1; }
  items.forEach(function (el, i) {
    el.addEventListener('click', function (ev) { ev.preventDefault(); show(i); });
  });
  box.querySelector('.prev').addEventListener('click', function () { show(current - 1); });
  box.querySelector('.next').addEventListener('click', function () { show(current + 1); });
  box.querySelector('.close').addEventListener('click', close);
  box.addEventListener('click', function (ev) { if (ev.target === box) close(); });
  document.addEventListener('keydown', function (ev) {
    if (current < 0) return;
    if (ev.key === 'Escape') close();
    else if (ev.key === 'ArrowRight') show(current + 1);
    else if (ev.key === 'ArrowLeft') show(current - 1);
  });
  window.addEventListener('resize', fit);

  // -- training timeline: a slider over the sample grids, with play / pause ----------------------
  Array.prototype.forEach.call(document.querySelectorAll('.timeline'), function (tl) {
    var frames = JSON.parse(tl.getAttribute('data-frames') || '[]');
    var steps = JSON.parse(tl.getAttribute('data-steps') || '[]');
    var img = tl.querySelector('img'), range = tl.querySelector('input'), label = tl.querySelector('.step');
    var play = tl.querySelector('button'), timer = null;
    function go(i) {
      range.value = String(i);
      img.src = frames[i];
      img.setAttribute('data-full', frames[i]);
      img.setAttribute('data-caption', 'samples at step ' + steps[i] + ' (the same latents at every step)');
      label.textContent = 'step ' + steps[i];
    }
    range.addEventListener('input', function () { go(Number(range.value)); });
    play.addEventListener('click', function () {
      if (timer) { clearInterval(timer); timer = null; play.textContent = 'play'; return; }
      play.textContent = 'pause';
      timer = setInterval(function () { go((Number(range.value) + 1) % frames.length); }, 350);
    });
  });

  // -- before / after: the content photo under the result, a slider moves the seam ---------------
  Array.prototype.forEach.call(document.querySelectorAll('.compare'), function (cmp) {
    var range = cmp.querySelector('input');
    function set() { cmp.style.setProperty('--pos', range.value + '%'); }
    range.addEventListener('input', set);
    set();
  });

  // -- a visible note (and a hook for tests) when an image fails to load ------------------------
  window.addEventListener('load', function () {
    var imgs = Array.prototype.slice.call(document.images).filter(function (im) { return im !== big; });
    var broken = imgs.filter(function (im) { return !im.complete || im.naturalWidth === 0; })
      .map(function (im) { return im.getAttribute('src'); });
    var check = document.getElementById('image-check');
    if (!check) return;
    check.setAttribute('data-state', 'done');
    check.setAttribute('data-total', String(imgs.length));
    check.setAttribute('data-broken', String(broken.length));
    if (broken.length) { check.className = 'broken'; check.textContent = 'Broken images: ' + broken.join(', '); }
  });
}());
