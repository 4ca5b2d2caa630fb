from django.db import models


class CustomerKind(models.TextChoices):
    PERSON = "person", "Person"
    ORGANISATION = "organisation", "Organisation"


class Tier(models.TextChoices):
    STANDARD = "standard", "Standard"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    PLATINUM = "platinum", "Platinum"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    WEB_FORM = "web_form", "Web form"
    SOCIAL = "social", "Social media"
    LETTER = "letter", "Letter"
    FACE_TO_FACE = "face_to_face", "Face to face"


class AdjustmentKind(models.TextChoices):
    """Reasonable adjustments (Equality Act 2010 s.20) a customer has asked for."""

    LARGE_PRINT = "large_print", "Large print"
    BRAILLE = "braille", "Braille"
    AUDIO = "audio", "Audio format"
    EASY_READ = "easy_read", "Easy read"
    BSL_INTERPRETER = "bsl_interpreter", "BSL interpreter"
    TEXT_RELAY = "text_relay", "Text relay (Relay UK)"
    EXTRA_TIME = "extra_time", "Extra time to respond"
    NAMED_CONTACT = "named_contact", "Named contact"
    WRITTEN_ONLY = "written_only", "Written contact only"
    PHONE_ONLY = "phone_only", "Phone contact only"
    THIRD_PARTY = "third_party", "Speaks through a trusted third party"
    OTHER = "other", "Other"
