"""The sandbox's Odoo models; importing this package registers them."""

from . import base, mail, maintenance, mrp_bom, mrp_production, product, stock, stock_quant, workcenter

__all__ = [
    "base",
    "mail",
    "maintenance",
    "mrp_bom",
    "mrp_production",
    "product",
    "stock",
    "stock_quant",
    "workcenter",
]
