"""CTC decoding: best path (greedy) and prefix beam search.

Inputs are per-frame log-probabilities (the log_softmax output of a CTC model), shaped (T, C)
for one utterance or (N, T, C) for greedy_search_batch, as numpy arrays or torch tensors (any
device).
`length` / `lengths` count the valid frames (after subsampling); padded frames are ignored.
Hypotheses are lists of token ids with the blank removed.

greedy_search follows the single most probable frame-level path (best path decoding).
prefix_beam_search keeps the `beam` most probable labellings, each scored by the total
probability of all the alignments that collapse to it. The two can differ, even with beam=1:
beam search compares labellings (sums over paths), greedy compares paths. On the peaky outputs
of a trained model they normally agree at beam=1.
"""
import numpy as np

_NEG_INF = -np.inf


def _to_numpy(x):
    if hasattr(x, "detach"):  # a torch tensor, possibly on a GPU or in half precision
        x = x.detach().cpu().double().numpy()
    return np.asarray(x)


def _valid_frames(log_probs, length, blank):
    """The (length, C) float64 log-probs of one utterance, after checking the arguments."""
    lp = _to_numpy(log_probs)
    if lp.ndim != 2:
        raise ValueError(f"expected (T, C) log-probabilities, got shape {lp.shape}")
    if not 0 <= blank < lp.shape[1]:
        raise ValueError(f"blank {blank} out of range for {lp.shape[1]} classes")
    if length is not None:
        length = int(length)
        if not 0 <= length <= lp.shape[0]:
            raise ValueError(f"length {length} out of range for {lp.shape[0]} frames")
        lp = lp[:length]
    return np.asarray(lp, dtype=np.float64)


def collapse(path, blank=0):
    """Frame-level token ids -> labelling: merge repeats, then drop blanks."""
    path = np.asarray(path)
    keep = path != blank
    keep[1:] &= path[1:] != path[:-1]
    return path[keep].tolist()


def greedy_search(log_probs, length=None, blank=0):
    """Best-path decoding of one (T, C) utterance: [token ids]."""
    return collapse(_valid_frames(log_probs, length, blank).argmax(axis=1), blank)


def greedy_search_batch(log_probs, lengths=None, blank=0):
    """Best-path decoding of an (N, T, C) batch: one list of token ids per utterance."""
    if hasattr(log_probs, "detach"):
        # argmax where the tensor lives: only (N, T) indices come back to the CPU
        best = log_probs.detach().argmax(dim=-1).cpu().numpy()
    else:
        best = np.asarray(log_probs).argmax(axis=-1)
    if best.ndim != 2:
        raise ValueError(f"expected (N, T, C) log-probabilities, got {best.ndim + 1} dimensions")
    n, t = best.shape
    lengths = np.full(n, t) if lengths is None else _to_numpy(lengths).astype(int)
    if lengths.shape != (n,) or lengths.min(initial=0) < 0 or lengths.max(initial=0) > t:
        raise ValueError(f"lengths must be {n} values in [0, {t}], got {lengths.tolist()}")
    return [collapse(best[i, :lengths[i]], blank) for i in range(n)]


class _PrefixTree:
    """Labellings as node ids, so that comparing two prefixes is comparing two integers.

    Node 0 is the empty labelling; each other node is its parent's labelling plus one token.
    """

    def __init__(self, num_classes):
        self.num_classes = num_classes
        self.parent = [-1]
        self.token = [-1]
        self.children = {}  # parent * num_classes + token -> node

    def child(self, node, token):
        key = node * self.num_classes + token
        found = self.children.get(key)
        if found is None:
            found = self.children[key] = len(self.parent)
            self.parent.append(node)
            self.token.append(token)
        return found

    def tokens(self, node):
        out = []
        while node > 0:
            out.append(self.token[node])
            node = self.parent[node]
        return out[::-1]


class _Columns:
    """Which tokens a frame may extend prefixes with, as the columns of the extension matrix.

    Columns 0..K-1 are the candidate tokens and column K is spare: it absorbs the writes for
    tokens that are not candidates (and for the empty prefix, whose last token is -1) and then
    holds the scores of the prefixes that stay unchanged. Without pruning the candidates are
    all non-blank tokens at every frame, so everything is computed once per utterance.
    """

    def __init__(self, lp, blank, prune, token_min_logp):
        num_classes = lp.shape[1]
        # A column of -inf at index C: lp_pad[t, -1] is the (impossible) repeat of "no token".
        self.lp_pad = np.concatenate([lp, np.full((len(lp), 1), _NEG_INF)], axis=1)
        self.nonblank = np.delete(np.arange(num_classes), blank)
        self.prune, self.token_min_logp = prune, token_min_logp
        self.pruned = prune is not None or token_min_logp is not None
        self.col_of = np.empty(num_classes + 1, dtype=int)
        if not self.pruned:
            self._set(self.nonblank)
            self.lp_cand_all = self.lp_pad[:, self.tokens]

    def _set(self, cand):
        self.tokens = np.append(cand, len(self.col_of) - 1)  # the spare column's "token" is C
        self.col_of.fill(len(cand))
        self.col_of[cand] = np.arange(len(cand))

    def at(self, t):
        """Log-probs of frame t's candidate columns (spare column: -inf)."""
        if not self.pruned:
            return self.lp_cand_all[t]
        lp_t = self.lp_pad[t]
        cand = self.nonblank
        if self.token_min_logp is not None:
            cand = cand[lp_t[cand] >= self.token_min_logp]
        if self.prune is not None and self.prune < len(cand):
            cand = cand[np.argpartition(lp_t[cand], -self.prune)[-self.prune:]]
        self._set(cand)
        return lp_t[self.tokens]


def prefix_beam_search(log_probs, beam=10, blank=0, length=None, prune=None,
                       token_min_logp=None):
    """CTC prefix beam search of one (T, C) utterance.

    Returns up to `beam` (token ids, log score) pairs, best first. A score is the log of the
    total probability of the alignments of that labelling that survived the search: it equals
    -ctc_loss(labelling) when no alignment of it was pruned, and is a lower bound otherwise.

    Each prefix keeps two log scores, for its alignments ending in blank (pb) and in a token
    (pnb). At each frame a prefix ending in c stays itself by a blank or by repeating c, and
    extends to prefix+c only from its blank-ending alignments (c c without a blank between
    collapses to one c). An extension that equals another prefix in the beam is merged into it
    (log-sum-exp), so each labelling is one beam entry.

    For speed, `prune` keeps only the top-k non-blank tokens of each frame as extensions and
    `token_min_logp` skips tokens whose log-prob is below it (pyctcdecode's name; e.g. -10).
    Both only restrict which new tokens are tried; staying and repeating are always scored.
    The search is vectorised over the beam x tokens of a frame, so its cost is mostly a fixed
    numpy overhead per frame (~30 us): pruning pays with large vocabularies (C=500, prune=10:
    ~20% faster), not with a few dozen characters (bench/bench_ctc_decode.py).
    """
    if beam < 1:
        raise ValueError(f"beam must be at least 1, got {beam}")
    if prune is not None and prune < 1:
        raise ValueError(f"prune must be at least 1 token, got {prune}")
    lp = _valid_frames(log_probs, length, blank)
    columns = _Columns(lp, blank, prune, token_min_logp)
    tree = _PrefixTree(lp.shape[1])
    # The beam: node ids, their parents' ids, last tokens (-1: empty prefix), pb and pnb.
    nodes, parents, lasts = np.zeros(1, int), np.full(1, -1), np.full(1, -1)
    pb, pnb = np.zeros(1), np.full(1, _NEG_INF)

    for t in range(len(lp)):
        lp_cols = columns.at(t)
        spare = len(lp_cols) - 1
        total = np.logaddexp(pb, pnb)
        stay_b = total + lp[t, blank]
        lp_last = columns.lp_pad[t, lasts]
        stay_nb = pnb + lp_last
        ext = total[:, None] + lp_cols
        # Repeating the last token makes a new token only after a blank.
        last_cols = columns.col_of[lasts]
        ext[np.arange(len(nodes)), last_cols] = pb + lp_last
        ext[:, spare] = _NEG_INF
        # An extension that reaches a prefix already in the beam (its parent is in the beam
        # too) is merged into that prefix's non-blank score.
        child, par = np.nonzero(parents[:, None] == nodes)
        if len(child):
            cols = last_cols[child]
            stay_nb[child] = np.logaddexp(stay_nb[child], ext[par, cols])
            ext[par, cols] = _NEG_INF
        ext[:, spare] = np.logaddexp(stay_b, stay_nb)

        flat = ext.ravel()
        top = np.argpartition(flat, -beam)[-beam:] if len(flat) > beam else np.arange(len(flat))
        top = top[flat[top] > _NEG_INF]
        if not len(top):
            raise ValueError(f"frame {t} gives every prefix probability 0 (all log-probs -inf?)")
        row, col = np.divmod(top, spare + 1)
        grown = col < spare
        pb = np.where(grown, _NEG_INF, stay_b[row])
        pnb = np.where(grown, flat[top], stay_nb[row])
        parents = np.where(grown, nodes[row], parents[row])
        lasts = np.where(grown, columns.tokens[col], lasts[row])
        nodes = nodes[row]
        new = np.flatnonzero(grown)
        nodes[new] = [tree.child(p, c) for p, c in zip(parents[new].tolist(), lasts[new].tolist())]

    final = np.logaddexp(pb, pnb)
    order = np.argsort(-final, kind="stable")
    return [(tree.tokens(int(nodes[i])), float(final[i])) for i in order]
