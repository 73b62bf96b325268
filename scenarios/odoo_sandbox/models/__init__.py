"""The sandbox's Odoo models; importing this package registers them."""

from . import base, maintenance, mrp_bom, mrp_production, product, stock, workcenter

__all__ = ["base", "maintenance", "mrp_bom", "mrp_production", "product", "stock", "workcenter"]
