// artengine explorer: talks to `artengine serve` (onnxruntime on the Python side). Plain JavaScript.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var SAMPLES = 12;
  var models = [], current = null, picked = [];

  function status(text) { $('status').textContent = text || ''; }

  function reportImageError(img) {
    fetch(img.src).then(function (r) { return r.json(); })
      .then(function (body) { status('could not render: ' + body.error); })
      .catch(function () { status('could not reach the server'); });
  }

  function params(extra) {
    var p = new URLSearchParams({ model: String(current.id) });
    if (current.kind === 'generator') {
      p.set('truncation', $('truncation').value);
      current.extra_inputs.forEach(function (e) { p.set(e.name, $('extra-' + e.name).value); });
    }
    Object.keys(extra || {}).forEach(function (k) { p.set(k, String(extra[k])); });
    return p.toString();
  }

  function seed() {
    var value = Number($('seed').value);
    if (!Number.isInteger(value) || value < 0) { value = 0; $('seed').value = '0'; }
    return value;
  }

  function renderSamples() {
    var box = $('samples'), s = seed();
    box.textContent = '';
    picked = picked.filter(function (p) { return p.seed === s; });
    for (var i = 0; i < SAMPLES; i++) {
      var img = document.createElement('img');
      img.className = 'px';
      img.alt = 'seed ' + s + ', sample ' + i;
      img.dataset.index = String(i);
      img.onerror = function () { reportImageError(this); };
      img.addEventListener('click', pick);
      img.src = '/api/image?' + params({ seed: s, index: i });
      box.appendChild(img);
    }
    markPicked();
    status('');
  }

  function markPicked() {
    Array.prototype.forEach.call($('samples').children, function (img) {
      var on = picked.some(function (p) { return p.seed === seed() && String(p.index) === img.dataset.index; });
      img.classList.toggle('picked', on);
    });
    $('walk').disabled = picked.length < 2;
  }

  function pick(ev) {
    var index = Number(ev.currentTarget.dataset.index), s = seed();
    var at = picked.findIndex(function (p) { return p.seed === s && p.index === index; });
    if (at >= 0) picked.splice(at, 1); else picked.push({ seed: s, index: index });
    if (picked.length > 2) picked.shift();
    markPicked();
    var scale = Math.max(1, Math.floor(512 / Math.max(1, current.image_size)));
    $('big').src = '/api/image?' + params({ seed: s, index: index });
    $('big-caption').textContent = current.name + ', seed ' + s + ', sample ' + index;
    $('download').href = '/api/image?' + params({ seed: s, index: index, scale: scale, download: 1 });
    $('preview').hidden = false;
  }

  function walk() {
    if (picked.length < 2) return;
    var a = picked[0], b = picked[1];
    $('walk-img').onerror = function () { reportImageError(this); };
    $('walk-img').src = '/api/walk?' + params({ a_seed: a.seed, a_index: a.index, b_seed: b.seed,
                                                 b_index: b.index, frames: 24 });
    $('walk-caption').textContent = 'from seed ' + a.seed + ' sample ' + a.index + ' to seed ' + b.seed +
      ' sample ' + b.index + ' and back (spherical interpolation)';
    $('walk-box').hidden = false;
  }

  function buildExtras() {
    var box = $('extras');
    box.textContent = '';
    current.extra_inputs.forEach(function (e) {
      var label = document.createElement('label'), input = document.createElement('input');
      var out = document.createElement('output');
      label.title = e.description || e.name;
      label.appendChild(document.createTextNode(e.name + ' '));
      input.type = 'range';
      input.id = 'extra-' + e.name;
      input.min = String(e.min);
      input.max = String(e.max);
      input.step = String(e.step);
      input.value = String(e['default']);
      out.textContent = input.value;
      input.addEventListener('input', function () { out.textContent = input.value; });
      input.addEventListener('change', renderSamples);
      label.appendChild(input);
      label.appendChild(out);
      box.appendChild(label);
    });
  }

  function stylize() {
    var file = $('photo').files[0];
    if (!file) return;
    $('photo-img').src = URL.createObjectURL(file);
    status('stylizing ' + file.name + ' ...');
    fetch('/api/stylize?' + params({ max_side: $('max-side').value }), { method: 'POST', body: file })
      .then(function (r) {
        if (!r.ok) return r.json().then(function (body) { throw new Error(body.error); });
        return r.blob();
      })
      .then(function (blob) {
        var url = URL.createObjectURL(blob);
        $('styled-img').src = url;
        $('styled-download').href = url;
        $('styled-download').download = 'stylized-' + file.name.replace(/\.[^.]*$/, '') + '.png';
        status('');
      })
      .catch(function (err) { status('could not stylize: ' + err.message); });
  }

  function choose(id) {
    current = models[id];
    picked = [];
    var facts = Object.keys(current.facts).map(function (k) { return k + ' ' + current.facts[k]; });
    $('facts').textContent = [current.kind, current.image_size + ' px'].concat(facts).join(' · ');
    var gen = current.kind === 'generator';
    $('generator').hidden = !gen;
    $('stylizer').hidden = gen;
    $('preview').hidden = true;
    $('walk-box').hidden = true;
    if (gen) { buildExtras(); renderSamples(); }
  }

  $('new').addEventListener('click', function () {
    $('seed').value = String(Math.floor(Math.random() * 2147483647));
    renderSamples();
  });
  $('seed').addEventListener('change', renderSamples);
  $('truncation').addEventListener('input', function () {
    var v = Number($('truncation').value);
    $('truncation-value').textContent = v > 0 ? v.toFixed(1) : 'off';
  });
  $('truncation').addEventListener('change', renderSamples);
  $('walk').addEventListener('click', walk);
  $('photo').addEventListener('change', stylize);
  $('max-side').addEventListener('change', stylize);
  $('model').addEventListener('change', function () { choose(Number($('model').value)); });

  fetch('/api/models').then(function (r) { return r.json(); }).then(function (body) {
    models = body.models;
    $('gallery-link').hidden = !body.gallery;
    models.forEach(function (m) {
      var opt = document.createElement('option');
      opt.value = String(m.id);
      opt.textContent = m.name + ' (' + m.kind + ')';
      $('model').appendChild(opt);
    });
    choose(0);
    document.body.dataset.ready = '1';
  }).catch(function () { status('could not reach the server'); });
}());
