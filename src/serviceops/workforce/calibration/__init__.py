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

Agents. A call log has no rota, so the agents on duty are estimated from the service records
(`AgentEstimate`). `BUSY_WHILE_QUEUED`, the default, is the mean number of calls in service
while at least one caller was waiting: an agent free to answer would have taken the waiting
call, so at those moments every agent available was busy, and the figure counts the agents
actually taking calls, net of breaks and after-call work. It leans low (queues form more when
fewer agents are available), and in an interval where nobody waited it falls back to the peak.
`PEAK_BUSY` is the most calls in service at once during the interval: the agents who were
there at the busiest moment, more than were available on average. `SERVERS` counts the named
agents who served at least once in the interval, which counts someone who took one call in it
as present throughout. A fractional count is evaluated by interpolating the predictions of the
whole counts either side.

Time. Intervals follow the wall clock of the log's time zone, but are real spans of time: on
the day the clocks go back, the repeated hour gives two intervals (told apart by their UTC
offset), and the hour skipped in spring gives none.

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
