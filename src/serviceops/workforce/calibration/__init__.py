"""Calibration against history: how close Erlang C and Erlang A come to what a queue did.

Pure: no Django. A call log (`read_call_log`) becomes the calls offered to the agents' queue;
the callers' patience is estimated from the abandonments (`estimate_patience`); then each
interval's observed service level and abandonment is set beside what Erlang C and Erlang A
predict for that interval's calls, handle time and agents (`calibrate`).

Patience. Under exponential patience of rate θ, a caller who waits w seconds and hangs up
contributes θ·e^(-θw) to the likelihood, and one who is answered after w seconds contributes
e^(-θw) (their patience is censored: it was longer than w). The maximum-likelihood estimate is
θ̂ = abandonments ÷ total waiting time of every caller, served or not; the mean patience is 1/θ̂.
Kaplan-Meier on the same censored waits, and the hazard per band of waiting time, show whether
the exponential shape holds.

How the agents on duty are estimated from a log without a rota, and how intervals follow
the wall clock across the clock changes: see `comparison`.

The package: `call_log` (`LogFormat`, `CallLog` and `read_call_log`, with the Anonymous Bank
and CSV readers), `patience` (`estimate_patience`, `kaplan_meier` and the hazard and survival
checks) and `comparison` (`calibrate`: the intervals, the agents on duty, the Erlang C and
Erlang A predictions and their accuracy).
"""

from serviceops.workforce.calibration.call_log import (
    BANK_COLUMNS,
    BANK_ZONE,
    DEFAULT_ZONE,
    CallLog,
    LogFormat,
    read_call_log,
)
from serviceops.workforce.calibration.comparison import (
    INTERVAL_MINUTES,
    MIN_QUEUED_SECONDS,
    Accuracy,
    AgentEstimate,
    Calibration,
    HourAccuracy,
    Intervals,
    ModelAccuracy,
    calibrate,
)
from serviceops.workforce.calibration.patience import (
    HAZARD_BANDS,
    SURVIVAL_CHECKPOINTS,
    HazardBand,
    PatienceEstimate,
    SurvivalCheck,
    estimate_patience,
    kaplan_meier,
)

__all__ = [
    "BANK_COLUMNS", "BANK_ZONE", "DEFAULT_ZONE", "HAZARD_BANDS", "INTERVAL_MINUTES",
    "MIN_QUEUED_SECONDS", "SURVIVAL_CHECKPOINTS", "Accuracy", "AgentEstimate", "CallLog",
    "Calibration", "HazardBand", "HourAccuracy", "Intervals", "LogFormat", "ModelAccuracy",
    "PatienceEstimate", "SurvivalCheck", "calibrate", "estimate_patience", "kaplan_meier",
    "read_call_log",
]
