"""Write a character token list (tokens.txt) from the transcripts of a Kaldi `text` table.

  speechkit make-tokens data/train/text data/lang/tokens.txt

Ids: <blank> 0 (CTC blank), <unk> 1, <space> 2, then the characters of the text in C order.
"""
import sys

from speechkit.bin import common
from speechkit.data.tokens import char_inventory, write_tokens
from speechkit.io import read_table


def get_parser():
    parser = common.make_parser(__name__, __doc__)
    parser.add_argument("text", help="Kaldi text table (utt words...)")
    parser.add_argument("tokens", help="output tokens.txt")
    return parser


@common.cli("speechkit make-tokens")
def main(argv=None):
    args = get_parser().parse_args(argv)
    tokens = char_inventory(value for _, value in read_table(args.text))
    write_tokens(args.tokens, tokens)
    print(f"make-tokens: {len(tokens)} tokens in {args.tokens}", file=sys.stderr)
