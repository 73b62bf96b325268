// JSON <-> Tahu (sparkplug-payload) object conversion shared by the interop peer scripts.
// Longs become decimal strings when they do not fit a JS number exactly, bytes become {"$bytes": base64},
// non-finite floats become {"$float": "NaN" | "Infinity" | "-Infinity"}, so Python can read the exact value.
"use strict";
const Long = require("long");

function toJson(value) {
  if (value === null || value === undefined) return value === undefined ? null : value;
  if (Long.isLong(value)) {
    const n = value.toNumber();
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
  if (typeof value === "number" && !Number.isFinite(value)) return { $float: String(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJson(v);
    return out;
  }
  return value;
}

const LONG_TYPES = new Set(["INT64", "UINT64", "DATETIME", "UINT32", "LONG"]);

// A metric value from JSON: "$bytes" -> Buffer, "$float" -> number, decimal strings of long types -> Long.
function fromJsonValue(type, value) {
  if (value === null || value === undefined) return value;
  if (typeof value === "object" && value.$bytes !== undefined) return Buffer.from(value.$bytes, "base64");
  if (typeof value === "object" && value.$float !== undefined) return Number(value.$float);
  const t = String(type || "").toUpperCase();
  if (LONG_TYPES.has(t) && typeof value === "string") {
    return Long.fromString(value, t.startsWith("U") || t === "DATETIME");
  }
  return value;
}

function fromJsonPayload(obj) {
  const p = Object.assign({}, obj);
  if (typeof p.timestamp === "string") p.timestamp = Long.fromString(p.timestamp, true);
  if (p.body && p.body.$bytes !== undefined) p.body = Buffer.from(p.body.$bytes, "base64");
  p.metrics = (obj.metrics || []).map((m) => {
    const metric = Object.assign({}, m);
    metric.value = fromJsonValue(m.type, m.value);
    return metric;
  });
  return p;
}

// Reads stdin line by line and calls handle(line) for each non-empty line; resolves at EOF.
function eachStdinLine(handle) {
  return new Promise((resolve) => {
    let buf = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) handle(line);
      }
    });
    process.stdin.on("end", () => {
      if (buf.trim()) handle(buf.trim());
      resolve();
    });
  });
}

module.exports = { toJson, fromJsonValue, fromJsonPayload, eachStdinLine };
