// Lists /api/openapi.json: one collapsible entry per operation with its parameters, body and
// responses (their JSON Schemas as text). No framework, no CDN.
(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const pre = (obj) => el('pre', '', JSON.stringify(obj, null, 2));

  function operation(path, method, op) {
    const d = el('details', 'op');
    d.dataset.op = method + ' ' + path;
    const s = el('summary');
    s.append(el('span', 'method ' + method, method), el('span', 'path', path), el('span', '', op.summary || ''));
    if (op.security) s.append(el('span', 'badge warn', 'token'));
    s.append(el('span', 'tag', (op.tags || []).join(', ')));
    d.append(s);
    const body = el('div', 'body');
    if (op.parameters && op.parameters.length) {
      body.append(el('h4', '', 'Parameters'));
      const t = el('table', 'list');
      for (const p of op.parameters) {
        const tr = el('tr');
        tr.append(el('td', '', p.name), el('td', 'muted', p.in + (p.required ? ', required' : '')), el('td', '', JSON.stringify(p.schema)));
        t.append(tr);
      }
      body.append(t);
    }
    if (op.requestBody) {
      body.append(el('h4', '', 'Body (application/json)'));
      body.append(pre(op.requestBody.content['application/json'].schema));
    }
    body.append(el('h4', '', 'Responses'));
    for (const [status, r] of Object.entries(op.responses)) {
      const types = Object.keys(r.content || {});
      body.append(el('div', '', status + ' — ' + r.description + (types.length ? ' (' + types.join(', ') + ')' : '')));
      for (const t of types) if (r.content[t].schema) body.append(pre(r.content[t].schema));
    }
    d.append(body);
    return d;
  }

  fetch('/api/openapi.json')
    .then((r) => r.json())
    .then((doc) => {
      $('intro').textContent = doc.info.title + ' ' + doc.info.version + ' — OpenAPI ' + doc.openapi + '. ' + doc.info.description;
      const ops = $('ops');
      for (const [path, methods] of Object.entries(doc.paths)) for (const [m, op] of Object.entries(methods)) ops.append(operation(path, m, op));
      document.body.dataset.operations = String(ops.children.length);
    })
    .catch((e) => {
      $('intro').textContent = 'Could not load /api/openapi.json: ' + e.message;
    });
})();
