// Encode Sparkplug B payloads with Eclipse Tahu's sparkplug-payload: one JSON payload per stdin line
// in Tahu's object form ({timestamp, seq, metrics: [{name, alias, type, value, ...}]}),
// one line of base64 (or "ERROR <message>") per payload on stdout.
"use strict";
const sparkplug = require("sparkplug-payload").get("spBv1.0");
const { fromJsonPayload, eachStdinLine } = require("./tahu_json");

eachStdinLine((line) => {
  try {
    const bytes = sparkplug.encodePayload(fromJsonPayload(JSON.parse(line)));
    process.stdout.write(Buffer.from(bytes).toString("base64") + "\n");
  } catch (err) {
    process.stdout.write("ERROR " + String(err && err.message ? err.message : err).replace(/\n/g, " ") + "\n");
  }
});
