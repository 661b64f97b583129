"""speechkit.decode"""
from speechkit.decode.ctc import greedy_search, greedy_search_batch, prefix_beam_search

__all__ = ["greedy_search", "greedy_search_batch", "prefix_beam_search"]
