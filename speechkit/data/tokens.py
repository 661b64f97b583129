"""Token lists (`tokens.txt`: `<token> <id>` per line, ids 0..N-1 in order) and text <-> ids.

Two kinds:
- characters, for CTC: `<blank>` 0 (CTC's blank), `<unk>` 1, `<space>` 2 for the word boundary,
  then every other character of the training text in C order; unknown characters map to <unk>;
- labels, for classification: every distinct whole transcript (`yes`, `_unknown_`, ...) in C order.
"""
from pathlib import Path

from speechkit.errors import SpeechkitError, where

BLANK, UNK, SPACE = "<blank>", "<unk>", "<space>"
SPECIALS = (BLANK, UNK, SPACE)


def char_inventory(texts):
    """Character token list for an iterable of transcripts."""
    chars = sorted({c for t in texts for c in t if not c.isspace()})
    return list(SPECIALS) + chars


def label_inventory(texts):
    """Label list: the distinct transcripts, each one label."""
    return sorted({" ".join(t.split()) for t in texts}, key=lambda s: s.encode())


def write_tokens(path, tokens):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("".join(f"{t} {i}\n" for i, t in enumerate(tokens)))


class TokenList:
    """The id of each token and back."""

    def __init__(self, tokens):
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def read(cls, path):
        path = Path(path)
        if not path.is_file():
            raise SpeechkitError(f"{path}: no such token list; make it with `speechkit make-tokens`")
        tokens = []
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            parts = line.split()
            if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) != lineno - 1:
                raise SpeechkitError(f"{where(path, lineno)}: expected `<token> {lineno - 1}`")
            tokens.append(parts[0])
        return cls(tokens)

    def __len__(self):
        return len(self.tokens)


class CharTokens(TokenList):
    """Characters for CTC (see the module doc)."""

    def __init__(self, tokens):
        super().__init__(tokens)
        if self.tokens[:3] != list(SPECIALS):
            raise SpeechkitError(f"a character token list starts with {', '.join(SPECIALS)}")

    def encode(self, text):
        unk = self.ids[UNK]
        return [self.ids[SPACE] if c == " " else self.ids.get(c, unk) for c in " ".join(text.split())]

    def decode(self, ids):
        """Ids (no blanks) -> text with single spaces."""
        chars = [" " if self.tokens[i] == SPACE else self.tokens[i] for i in ids if i != 0]
        return " ".join("".join(chars).split())
