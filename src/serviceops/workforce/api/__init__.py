"""Workforce API (PL4): forecasts, staffing plans and their scenarios, shift patterns,
contracts and leave, rotas from draft to published, and each person's shifts.

Thin: every read goes through the scoping selectors (another team's plan is a 404, not a
403, so that its existence is not disclosed), every write through the services, which check
the PLAN_WORKFORCE permission and the team themselves.

Each endpoint names its operation id: django-ninja derives the default from the view's
module, and these are the ids of the API when it was one module (`api.py`), which clients
generated from the OpenAPI schema use as method names.
"""

from ninja import Router

from serviceops.workforce.api import forecasts, intraday, plans, rotas, shifts

# The modules' routers write their paths in full and are nested under "". They have no tags
# of their own: a nested router's tags are added to its parent's, not put in their place.
router = Router(tags=["workforce"])
router.add_router("", forecasts.router)
router.add_router("", plans.router)
router.add_router("", rotas.router)
router.add_router("", shifts.router)
router.add_router("", intraday.router)
