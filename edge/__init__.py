"""The edge gateway: OPC UA and Modbus TCP sources feeding a Sparkplug EdgeNode."""
