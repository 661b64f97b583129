"""Pure search over network outputs (CTC best path and prefix beam)."""
from speechkit.search.ctc import greedy_search, greedy_search_batch, prefix_beam_search

__all__ = ["greedy_search", "greedy_search_batch", "prefix_beam_search"]
