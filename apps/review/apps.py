from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "apps.review"
    label = "review"
    verbose_name = "Reviews"

    def ready(self) -> None:
        from django.db.models import Q

        from apps.audit import records
        from apps.review.models import Review

        records.register(Review, action="review.signed", final=Q(signed_at__isnull=False))
