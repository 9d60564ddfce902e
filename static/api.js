// The API reference page: fetch the OpenAPI document and draw it with DOM calls only
// (textContent, never innerHTML), so the page works under the strict CSP.
"use strict";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function refName(schema) {
  return schema && schema.$ref ? schema.$ref.split("/").pop() : null;
}

function typeOf(schema) {
  if (!schema) return "";
  if (schema.$ref) return refName(schema);
  if (schema.enum) return schema.enum.join(" | ");
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(" | ");
  if (schema.type === "array") return typeOf(schema.items) + "[]";
  let text = schema.type || "object";
  if (schema.format) text += " (" + schema.format + ")";
  const limits = [];
  if (schema.minimum !== undefined) limits.push("≥ " + schema.minimum);
  if (schema.maximum !== undefined) limits.push("≤ " + schema.maximum);
  if (schema.maxLength !== undefined) limits.push("≤ " + schema.maxLength + " chars");
  if (schema.default !== undefined && schema.default !== null) limits.push("default " + schema.default);
  return limits.length ? text + ", " + limits.join(", ") : text;
}

function table(headers, rows) {
  const wrap = el("div", null, "table-scroll");
  const t = wrap.appendChild(el("table", null, "api-table"));
  const head = t.createTHead().insertRow();
  headers.forEach((h) => head.appendChild(el("th", h)));
  const body = t.createTBody();
  rows.forEach((cells) => {
    const row = body.insertRow();
    cells.forEach((c) => row.appendChild(el("td", c)));
  });
  return wrap;
}

function schemaLink(schema) {
  const name = refName(schema);
  if (!name) return el("span", typeOf(schema));
  const link = el("a", name);
  link.href = "#schema-" + name;
  return link;
}

function drawOperation(path, method, op) {
  const id = op.operationId || method + path;
  const box = el("section", null, "api-op");
  box.id = "op-" + id;
  const title = el("h3");
  title.appendChild(el("span", method.toUpperCase(), "api-method " + method));
  title.appendChild(document.createTextNode(path));
  box.appendChild(title);
  box.appendChild(el("p", op.summary)).className = "help";
  box.appendChild(el("p", op.description, "api-desc"));
  const params = (op.parameters || []).concat(op._pathParameters || []);
  if (params.length) {
    box.appendChild(el("h4", "Parameters"));
    box.appendChild(table(["name", "in", "type", "required", "meaning"],
      params.map((p) => [p.name, p.in, typeOf(p.schema), p.required ? "yes" : "no", p.description || ""])));
  }
  if (op.requestBody) {
    box.appendChild(el("h4", "Request body"));
    const list = el("ul");
    Object.entries(op.requestBody.content).forEach(([media, body]) => {
      const item = el("li", media + ": ");
      item.appendChild(schemaLink(body.schema));
      list.appendChild(item);
      if (body.schema.properties) item.appendChild(fieldTable(body.schema));
    });
    box.appendChild(list);
  }
  box.appendChild(el("h4", "Responses"));
  const answers = el("ul");
  Object.entries(op.responses).forEach(([status, answer]) => {
    const item = el("li", status + " " + answer.description + " ");
    Object.values(answer.content || {}).forEach((c) => item.appendChild(schemaLink(c.schema)));
    answers.appendChild(item);
  });
  box.appendChild(answers);
  return box;
}

function fieldTable(schema) {
  const required = new Set(schema.required || []);
  return table(["field", "type", "required", "meaning"],
    Object.entries(schema.properties).map(([field, s]) =>
      [field, typeOf(s), required.has(field) ? "yes" : "no", s.description || ""]));
}

function drawSchema(name, schema) {
  const box = el("section", null, "api-op");
  box.id = "schema-" + name;
  box.appendChild(el("h3", name));
  if (schema.description) box.appendChild(el("p", schema.description, "api-desc"));
  if (schema.properties) {
    box.appendChild(fieldTable(schema));
  } else {
    box.appendChild(el("pre", JSON.stringify(schema, null, 2), "api-schema"));
  }
  return box;
}

function draw(spec) {
  const body = document.getElementById("api-body");
  const toc = el("ul");
  body.appendChild(el("p", spec.info.description.split("\n\n")[0]));
  const problems = spec["x-problem-types"] || [];
  body.appendChild(el("h2", "Errors"));
  body.appendChild(table(["type", "status", "title", "when"],
    problems.map((p) => [p.type, p.status, p.title, p.description])));
  body.appendChild(el("h2", "Operations"));
  Object.entries(spec.paths).forEach(([path, item]) => {
    ["get", "post", "put", "patch", "delete"].forEach((method) => {
      if (!item[method]) return;
      const op = Object.assign({ _pathParameters: item.parameters || [] }, item[method]);
      const box = drawOperation(path, method, op);
      body.appendChild(box);
      const link = el("a", method.toUpperCase() + " " + path);
      link.href = "#" + box.id;
      toc.appendChild(el("li")).appendChild(link);
    });
  });
  body.appendChild(el("h2", "Schemas"));
  Object.entries(spec.components.schemas).forEach(([name, s]) => body.appendChild(drawSchema(name, s)));
  document.getElementById("api-toc").appendChild(toc);
  document.getElementById("api-status").textContent =
    spec.info.title + " " + spec.info.version + " · OpenAPI " + spec.openapi;
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("api-reference");
  fetch(root.dataset.specUrl, { headers: { Accept: "application/json" } })
    .then((r) => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(draw)
    .catch((e) => { document.getElementById("api-status").textContent = "Could not load the document: " + e.message; });
});
