"""`uns demo`: the whole product on a simulated plant, with the Odoo sandbox and a live view."""
