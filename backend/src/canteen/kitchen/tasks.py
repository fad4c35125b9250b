"""The kitchen has no jobs of its own: the re-estimate of open orders (job
kitchen.reestimate) moves orders, so it lives in orders/tasks.py (orders -> kitchen, never
back). Kept while the composition root still loads this module."""
