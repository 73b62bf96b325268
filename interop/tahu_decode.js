// Decode Sparkplug B payloads with Eclipse Tahu's sparkplug-payload: base64 lines on stdin,
// one JSON line per payload on stdout ({"ok": true, "payload": ...} or {"ok": false, "error": "..."}).
"use strict";
const sparkplug = require("sparkplug-payload").get("spBv1.0");
const { toJson, eachStdinLine } = require("./tahu_json");

eachStdinLine((line) => {
  let out;
  try {
    out = { ok: true, payload: toJson(sparkplug.decodePayload(Buffer.from(line, "base64"))) };
  } catch (err) {
    out = { ok: false, error: String(err && err.message ? err.message : err) };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
