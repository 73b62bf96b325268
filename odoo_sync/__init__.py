"""Everything Odoo: transports, the idempotent writer, the reader of orders and holds."""
