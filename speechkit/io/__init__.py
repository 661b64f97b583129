"""Kaldi tables, audio through wav.scp/segments, and ark/scp matrices."""
from speechkit.io.audio import AudioTable, load_audio, read_segments, write_wav
from speechkit.io.kaldi import (MatrixWriter, load_scp, parse_rspecifier, parse_wspecifier,
                                read_matrices, read_matrix_dict)
from speechkit.io.table import (atomic_write_text, read_dict, read_table, sort_keys, table_path,
                                write_table)

__all__ = ["AudioTable", "load_audio", "read_segments", "write_wav", "MatrixWriter", "load_scp",
           "parse_rspecifier", "parse_wspecifier", "read_matrices", "read_matrix_dict",
           "atomic_write_text", "read_dict", "read_table", "sort_keys", "table_path", "write_table"]
