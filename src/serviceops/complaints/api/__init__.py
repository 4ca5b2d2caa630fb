"""Complaints API (DO4): the register, logging, each handling stage, root causes, corrective
and preventive actions, service recovery, letters, Consumer Rights Act remedy guidance, the
settings and the analysis.

Thin: every read goes through `complaint_scope` (another team's complaint is a 404, not a
403, so that its existence is not disclosed), every write through `complaints.services`,
which check the permissions themselves (complaint handlers and managers change complaints;
agents log them and see their own; assessors read) and raise ValidationError with field
names (a 422) or PermissionDenied (a 403). Body fields that name an object end in `_id`, and
a service's refusal on such a field is reported under the same `_id` name.
"""

from serviceops.complaints.api import analysis, handling, settings

# The register and each complaint's endpoints are the root; a router nested under "" would
# give the register a trailing slash.
router = handling.router
router.add_router("/settings", settings.router)
router.add_router("/analysis", analysis.router)
