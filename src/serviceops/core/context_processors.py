from serviceops.core.permissions import allowed, role_of, staff_of
from serviceops.core.roles import Perm, Role


def roles(request):
    """Expose the signed-in user's role and permissions to templates (for showing controls)."""
    user = getattr(request, "user", None)
    role = role_of(user)
    staff = staff_of(user)
    unread = 0
    if staff is not None:
        from serviceops.sla.models import Notification

        unread = Notification.objects.filter(recipient=staff, read_at__isnull=True).count()
    return {
        "unread_notifications": unread,
        "current_staff": staff,
        "current_role": Role(role).label if role else "",
        "can": {perm.value: allowed(user, perm) for perm in Perm} if role else {},
    }
