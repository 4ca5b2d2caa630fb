"""Use cases that change complaints, from logging to closing, with the rules of issue 4.

Every write checks the user's permission (log, handle or configure complaints) and that they
can see the complaint, validates its input with messages that name the field, runs in one
transaction, writes the audit trail, and records what happened on the complaint's case: a
letter is a public reply, an escalation an escalation event, anything else an internal note
(the case event log has no complaint kinds). In-app notifications are rows written in the
same transaction, so they exist exactly when the change does.

The functions live in modules by topic (`lifecycle`, `rca`, `recovery`, `letters`,
`configuration`); import them from here.
"""

from serviceops.complaints.services._common import (  # noqa: F401
    regime_deadlines,
)
from serviceops.complaints.services.configuration import (  # noqa: F401
    REGIME_FIELDS,
    approval_limit_set,
    letter_template_save,
    regime_save,
)
from serviceops.complaints.services.letters import (  # noqa: F401
    PLACEHOLDERS,
    letter_render,
    letter_send,
    template_for,
)
from serviceops.complaints.services.lifecycle import (  # noqa: F401
    CHECKLIST_FIELDS,
    DETAIL_FIELDS,
    PURCHASE_FIELDS,
    UPDATABLE,
    complaint_acknowledge,
    complaint_assign,
    complaint_close,
    complaint_escalate,
    complaint_follow_up,
    complaint_log,
    complaint_refer_to_ombudsman,
    complaint_resolve,
    complaint_send_holding,
    complaint_update,
)
from serviceops.complaints.services.rca import (  # noqa: F401
    MAX_WHYS,
    action_check,
    action_create,
    action_link,
    action_update,
    cause_add,
    cause_create,
    cause_remove,
    whys_set,
)
from serviceops.complaints.services.recovery import (  # noqa: F401
    approval_limit_of,
    gesture_add,
)
