"""Story summaries: sentences chosen across a story's sources, each attributed to its source.

Extractive by default (`summarize`); an optional abstractive pass (`summarize_llm`) asks an
OpenAI-compatible chat endpoint to rewrite the extractive summary, grounded in it, and falls
back to it on any error.
"""

from __future__ import annotations

from veille.summarize.extractive import (
    ExtractiveOptions,
    SourceText,
    Summary,
    SummarySentence,
    options_from_config,
    split_sentences,
    summarize,
)
from veille.summarize.llm import LlmOptions, llm_options_from_config, summarize_llm

__all__ = [
    "ExtractiveOptions",
    "LlmOptions",
    "SourceText",
    "Summary",
    "SummarySentence",
    "llm_options_from_config",
    "options_from_config",
    "split_sentences",
    "summarize",
    "summarize_llm",
]
