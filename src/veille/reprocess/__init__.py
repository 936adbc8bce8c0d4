"""Reprocessing archives on Apache Spark (`veille reprocess`): see `job`."""

from veille.reprocess.job import ReprocessReport, SparkUnavailable, environment_ready, reprocess

__all__ = ["ReprocessReport", "SparkUnavailable", "environment_ready", "reprocess"]
