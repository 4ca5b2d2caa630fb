"""Load tickets into the django-helpdesk peer from a CSV written by bench_web.py, and create a
superuser. Run with the peer's virtualenv (PYTHONPATH=benchmarks/peer_helpdesk)."""

import csv
import os
import sys
from datetime import datetime

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from helpdesk.models import Queue, Ticket  # noqa: E402

# Our statuses onto helpdesk's: 1 open, 2 reopened, 3 resolved, 4 closed.
STATUS = {"new": 1, "open": 1, "pending_customer": 1, "pending_third_party": 1, "on_hold": 1,
          "reopened": 2, "resolved": 3, "closed": 4}


def main(path: str) -> None:
    User = get_user_model()
    if not User.objects.filter(username="bench").exists():
        User.objects.create_superuser("bench", "bench@example.org", "bench-pass")
    if Ticket.objects.exists():
        print(f"peer already has {Ticket.objects.count()} tickets")
        return
    queues = {}
    batch = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            team = row["team"] or "General"
            if team not in queues:
                queues[team] = Queue.objects.create(
                    title=team, slug=team.lower().replace(" ", "-")[:50],
                    email_address=f"{len(queues)}@example.org")
            created = datetime.fromisoformat(row["opened_at"])
            batch.append(Ticket(
                id=int(row["id"]), title=row["subject"][:200], queue=queues[team],
                created=created, modified=created, description=row["subject"],
                submitter_email="customer@example.org", status=STATUS[row["status"]],
                priority=int(row["priority"]),
            ))
            if len(batch) == 5000:
                Ticket.objects.bulk_create(batch)
                batch = []
    Ticket.objects.bulk_create(batch)
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:  # ids were given explicitly: move the sequence on
        for statement in connection.ops.sequence_reset_sql(no_style(), [Ticket]):
            cursor.execute(statement)
    print(f"peer loaded {Ticket.objects.count()} tickets in {len(queues)} queues")


if __name__ == "__main__":
    main(sys.argv[1])
