"""Write a token list (tokens.txt) from the transcripts of a Kaldi `text` table.

  speechkit make-tokens data/train/text data/lang/tokens.txt                 characters, for CTC
  speechkit make-tokens --unit label data/train/text data/lang/labels.txt    labels, for classifiers

Characters: <blank> 0 (CTC blank), <unk> 1, <space> 2, then the characters of the text in C
order. Labels: every distinct transcript in C order.
"""
import sys

from speechkit import cli as common
from speechkit.data.tokens import char_inventory, label_inventory, write_tokens
from speechkit.io import read_table

INVENTORIES = {"char": char_inventory, "label": label_inventory}


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("--unit", choices=sorted(INVENTORIES), default="char",
                        help="char: characters for CTC; label: whole transcripts as class labels")
    parser.add_argument("text", help="Kaldi text table (utt words...)")
    parser.add_argument("tokens", help="output tokens.txt")
    return parser


@common.cli("speechkit make-tokens")
def main(argv=None):
    args = get_parser().parse_args(argv)
    tokens = INVENTORIES[args.unit](value for _, value in read_table(args.text))
    write_tokens(args.tokens, tokens)
    print(f"make-tokens: {len(tokens)} tokens in {args.tokens}", file=sys.stderr)
