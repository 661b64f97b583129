"""speechkit.metrics"""
from speechkit.metrics.wer import ErrorStats, align, score_corpus

__all__ = ["ErrorStats", "align", "score_corpus"]
