"""The simulated world for tests and the demo: plants, simulated PLCs, the Odoo sandbox."""
