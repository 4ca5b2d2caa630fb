from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "serviceops.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        # The built-in KPIs; other apps (complaints, surveys, QA) register theirs the same way.
        from serviceops.insights import kpis, sources

        for source in sources.BUILT_IN:
            kpis.register(source)
