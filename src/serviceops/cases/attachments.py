"""What may be attached to a case: a size limit and an allow-list checked against content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError

# extension -> (content type, check on the first bytes or None for plain text)
ALLOWED: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": ("image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    ".gif": ("image/gif", b"GIF8"),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"
    ),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
    ".txt": ("text/plain", None),
    ".csv": ("text/csv", None),
    ".eml": ("message/rfc822", None),
}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content: bytes
    content_type: str
    sha256: str


def attachment_check(*, name: str, content: bytes) -> CheckedFile:
    """Return the file as accepted, or raise ValidationError saying why it is refused.

    The extension must be on the allow-list and the bytes must look like that type, so a
    renamed executable is refused whatever it is called.
    """
    clean_name = PurePath(name.replace("\\", "/")).name.strip() or "attachment"
    limit = settings.ATTACHMENT_MAX_BYTES
    if len(content) > limit:
        raise ValidationError(
            {"attachments": f"{clean_name} is {len(content):,} bytes; the limit is {limit:,}."}
        )
    if not content:
        raise ValidationError({"attachments": f"{clean_name} is empty."})
    ext = PurePath(clean_name).suffix.lower()
    if ext not in ALLOWED:
        allowed = ", ".join(sorted(ALLOWED))
        raise ValidationError(
            {"attachments": f"{clean_name}: files of type {ext or '(none)'} are not accepted "
                            f"(accepted: {allowed})."}
        )
    content_type, magic = ALLOWED[ext]
    if magic is not None and not content.startswith(magic):
        raise ValidationError(
            {"attachments": f"{clean_name} does not contain what its name says ({ext})."}
        )
    if magic is None:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(
                {"attachments": f"{clean_name} is not UTF-8 text."}
            ) from None
    return CheckedFile(
        name=clean_name, content=content, content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
    )
