// An Eclipse Tahu sparkplug-client edge node driven by a JSON plan, for the interop tests and bench.
//
// usage: node tahu_edge.js --url mqtt://127.0.0.1:1883 --group G --edge E [--client-id C] --plan '<json>'
// plan: {
//   "nbirth": [metric...],                 NBIRTH metrics (Tahu appends bdSeq itself)
//   "dbirths": {"<device>": [metric...]},  DBIRTH metrics per device, published after the NBIRTH
//   "initial_dbirth": true,                false: skip the DBIRTHs on connect (data before birth)
//   "data": [{"device": "<id>"|null, "metrics": [metric...]}],   DDATA (NDATA when device is null)
//   "data_after_rebirth": [...],           published after each rebirth the host asks for
//   "ddeaths": ["<device>"],               DDEATH for these devices after the data
//   "rebirths_expected": 0,                wait for that many NCMD rebirth requests (up to wait_ms)
//   "wait_ms": 5000, "linger_ms": 200,
//   "end": "clean" | "abrupt"              clean: NDEATH + DISCONNECT; abrupt: drop the socket (will)
// }
// metric: {"name", "alias", "type", "value", "timestamp"}; values as in tahu_json.js.
// stdout: one JSON line per event ({"event": "connect" | "publish" | "ncmd" | "rebirth" | "done", ...}).
"use strict";
const sparkplugClient = require("sparkplug-client");
const { fromJsonPayload, toJson } = require("./tahu_json");

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];
  return args;
}

const args = parseArgs(process.argv);
const plan = JSON.parse(args.plan || process.env.TAHU_PLAN || "{}");
const emit = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const client = sparkplugClient.newClient({
  serverUrl: args.url,
  username: "",
  password: "",
  groupId: args.group,
  edgeNode: args.edge,
  clientId: args["client-id"] || `tahu-${args.edge}-${process.pid}`,
  publishDeath: (plan.end || "clean") === "clean",
  version: "spBv1.0",
});

function payload(metrics) {
  const now = Date.now();
  const p = fromJsonPayload({ timestamp: now, metrics: metrics || [] });
  for (const m of p.metrics) if (m.timestamp === undefined) m.timestamp = now;
  return p;
}

function publishBirths(withDevices) {
  const nb = payload(plan.nbirth);
  client.publishNodeBirth(nb);
  emit({ event: "publish", type: "NBIRTH", seq: nb.seq });
  if (!withDevices) return;
  for (const [device, metrics] of Object.entries(plan.dbirths || {})) {
    const db = payload(metrics);
    client.publishDeviceBirth(device, db);
    emit({ event: "publish", type: "DBIRTH", device, seq: db.seq });
  }
}

function publishData(entries) {
  for (const entry of entries || []) {
    const p = payload(entry.metrics);
    if (entry.device) client.publishDeviceData(entry.device, p);
    else client.publishNodeData(p);
    emit({ event: "publish", type: entry.device ? "DDATA" : "NDATA", device: entry.device || null, seq: p.seq });
  }
}

let rebirths = 0;
let finishing = false;

function finish(code) {
  if (finishing) return;
  finishing = true;
  setTimeout(() => {
    emit({ event: "done", rebirths, code });
    if ((plan.end || "clean") === "abrupt") {
      // No DISCONNECT packet: the broker publishes the registered will (Tahu's NDEATH).
      client.client.stream.destroy();
      process.exit(code);
    }
    client.stop();
    client.client.on("end", () => process.exit(code));
    setTimeout(() => process.exit(code), 2000);
  }, plan.linger_ms === undefined ? 200 : plan.linger_ms);
}

client.on("birth", () => {
  emit({ event: "connect" });
  publishBirths(plan.initial_dbirth !== false);
  publishData(plan.data);
  for (const device of plan.ddeaths || []) {
    const p = { timestamp: Date.now() };
    client.publishDeviceDeath(device, p);
    emit({ event: "publish", type: "DDEATH", device, seq: p.seq });
  }
  if (!plan.rebirths_expected) finish(0);
});

client.on("ncmd", (p) => {
  emit({ event: "ncmd", payload: toJson(p) });
  const rebirth = (p.metrics || []).find((m) => m.name === "Node Control/Rebirth");
  if (rebirth && rebirth.value === true) {
    rebirths += 1;
    publishBirths(true);
    emit({ event: "rebirth", count: rebirths });
    publishData(plan.data_after_rebirth);
    if (plan.rebirths_expected && rebirths >= plan.rebirths_expected) finish(0);
  }
});

client.on("error", (err) => {
  emit({ event: "error", error: String(err && err.message ? err.message : err) });
  process.exit(2);
});

setTimeout(() => {
  emit({ event: "timeout", rebirths });
  finish(3);
}, plan.wait_ms || 5000);
