"""A one-cell plant for the bridge service tests: every role, OPC UA sources (never polled here)."""

from __future__ import annotations

PLANT_YAML = """
plant_model: 1
enterprise: acme
site: {site}
group_id: {group}
products:
  - {{code: FG-1, kind: finished}}
  - {{code: RM-1, kind: component, uom: kg}}
state_tables:
  cnc:
    codes:
      0: {{state: unknown, reason: No data}}
      1: {{state: running, reason: Cutting, odoo_loss: Fully Productive Time}}
      2: {{state: planned_stop, reason: Tool change, odoo_loss: Setup and Adjustments}}
      4: {{state: unplanned_stop, reason: Tool breakage, odoo_loss: Equipment Failure}}
flows:
  production_reported: {{window_s: 60}}
areas:
  - name: hall
    lines:
      - name: line1
        connections:
          - {{name: plc, kind: opcua, endpoint: "opc.tcp://127.0.0.1:4840"}}
        cells:
          # A cell whose PLC knows no order: its order is the one Odoo has in progress on WC-2.
          - name: cell2
            workcenter: WC-2
            tags:
              - {{path: counters/good, role: good_count, datatype: UInt32, unit: pcs,
                 source: {{connection: plc, node_id: "ns=2;s=Good2"}}}}
          - name: cell1
            workcenter: WC-1
            equipment:
              - {{name: spindle, serial: SP-1}}
            tags:
              - {{path: counters/good, role: good_count, datatype: UInt32, rollover: 65536, unit: pcs,
                 source: {{connection: plc, node_id: "ns=2;s=Good"}}}}
              - {{path: counters/scrap, role: scrap_count, datatype: UInt32, unit: pcs,
                 source: {{connection: plc, node_id: "ns=2;s=Scrap"}}}}
              - {{path: state, role: machine_state, datatype: Int32, state_table: cnc,
                 source: {{connection: plc, node_id: "ns=2;s=State"}}}}
              - {{path: order, role: order, datatype: String,
                 source: {{connection: plc, node_id: "ns=2;s=Order"}}}}
              - {{path: lot, role: lot, datatype: String, source: {{connection: plc, node_id: "ns=2;s=Lot"}}}}
              - {{path: material/bar_kg, role: consumption, component: RM-1, datatype: Double, unit: kg,
                 source: {{connection: plc, node_id: "ns=2;s=Bar"}}}}
              - {{path: temperature, role: process_value, datatype: Double, unit: degC, low: 10, high: 20,
                 debounce_s: {debounce}, source: {{connection: plc, node_id: "ns=2;s=Temp"}}}}
              - {{path: alarm, role: alarm, equipment: spindle, datatype: Boolean,
                 source: {{connection: plc, node_id: "ns=2;s=Alarm"}}}}
              - {{path: runtime_hours, role: runtime_hours, equipment: spindle, threshold_h: 100,
                 datatype: Double,
                 source: {{connection: plc, node_id: "ns=2;s=Hours"}}}}
              - {{path: speed, datatype: Float, unit: rpm,
                 source: {{connection: plc, node_id: "ns=2;s=Speed"}}}}
"""

# Sparkplug datatypes of the cell's metrics, as the test edge node declares them.
METRICS = {
    "counters/good": "UInt32",
    "counters/scrap": "UInt32",
    "state": "Int32",
    "order": "String",
    "lot": "String",
    "material/bar_kg": "Double",
    "temperature": "Double",
    "alarm": "Boolean",
    "runtime_hours": "Double",
    "speed": "Float",
}


def plant_yaml(group: str, site: str = "works", debounce: float = 1.0) -> str:
    return PLANT_YAML.format(group=group, site=site, debounce=debounce)
