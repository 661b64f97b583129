"""Speaker clustering of utterance embeddings: agglomerative clustering, MR and ARI.

- Clustering: scipy's hierarchical clustering on the condensed vector of pairwise distances
  (cosine and complete linkage by default). The original (stdm/ZHAW_deep_voice) passes a square
  distance matrix to `linkage`, which takes it for observations and clusters the rows as
  vectors; here the distances themselves go in.
- Misclassification rate (MR, Kotti et al.): each speaker is matched to at most one cluster and
  each cluster to at most one speaker; an utterance is right when its cluster is its speaker's.
  The matching that maximises the right ones is found exactly (Hungarian algorithm,
  scipy.optimize.linear_sum_assignment); the original approximates it greedily.
- `min_mr_over_cuts`: the original protocol's number, the lowest MR over every level of the
  dendrogram. It picks the cut with the labels, so it is optimistic; the honest figure is the MR
  at the true number of speakers (or at a cut chosen on dev data).
- Adjusted Rand index (Hubert and Arabie), from the contingency table.
"""
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import pdist, squareform

from speechkit.errors import SpeechkitError

EUCLIDEAN_ONLY = ("ward", "centroid", "median")


def pairwise_distances(embeddings, metric="cosine"):
    """Condensed distances (scipy's pdist layout). Cosine distance is 1 - cos, with a zero
    vector at distance 1 from everything (pdist would give NaN)."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise SpeechkitError(f"clustering needs at least 2 embeddings as rows, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise SpeechkitError(f"{np.sum(~np.isfinite(x).all(1))} embeddings contain NaN or inf")
    if metric != "cosine":
        return pdist(x, metric)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    dist = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    np.fill_diagonal(dist, 0.0)
    return squareform(dist, checks=False)


def cluster_tree(embeddings, metric="cosine", method="complete"):
    """scipy linkage matrix of agglomerative clustering."""
    if method in EUCLIDEAN_ONLY and metric != "euclidean":
        raise SpeechkitError(f"linkage '{method}' is defined for euclidean distances only; use "
                             f"metric euclidean or linkage complete/average/single")
    return linkage(pairwise_distances(embeddings, metric), method=method)


def cut(tree, n_clusters):
    """Cluster labels (1..k) of the cut with at most n_clusters clusters."""
    return fcluster(tree, n_clusters, criterion="maxclust")


def _contingency(true, pred):
    _, t = np.unique(np.asarray(true), return_inverse=True)
    _, p = np.unique(np.asarray(pred), return_inverse=True)
    table = np.zeros((t.max() + 1, p.max() + 1), dtype=np.int64)
    np.add.at(table, (t, p), 1)
    return table


def misclassification_rate(true, pred):
    """Share of utterances outside their speaker's cluster under the best one-to-one matching
    of speakers to clusters (exact; clusters or speakers left over count as wrong)."""
    if len(true) != len(pred) or not len(true):
        raise SpeechkitError(f"{len(true)} speaker labels but {len(pred)} cluster labels")
    table = _contingency(true, pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(1.0 - table[rows, cols].sum() / len(true))


def min_mr_over_cuts(tree, true):
    """(lowest MR over all cuts of the dendrogram, number of clusters there): the original
    protocol's number, optimistic because the cut is picked with the labels."""
    results = [(misclassification_rate(true, cut(tree, k)), k) for k in range(1, len(true) + 1)]
    return min(results)


def adjusted_rand_index(true, pred):
    """Adjusted Rand index of two labelings (1 for identical partitions, about 0 for chance)."""
    table = _contingency(true, pred)
    n = table.sum()

    def pairs(x):
        return float(np.sum(x * (x - 1) // 2))

    both, a, b, total = pairs(table), pairs(table.sum(1)), pairs(table.sum(0)), n * (n - 1) / 2
    expected = a * b / total if total else 0.0
    best = (a + b) / 2
    if best == expected:  # both partitions trivial (one cluster, or all singletons)
        return 1.0
    return float((both - expected) / (best - expected))


def evaluate_clustering(embeddings, speakers, metric="cosine", method="complete"):
    """MR and ARI at the true number of speakers, and the original's minimum MR over cuts."""
    tree = cluster_tree(embeddings, metric, method)
    n_speakers = len(set(speakers))
    labels = cut(tree, n_speakers)
    best_mr, best_k = min_mr_over_cuts(tree, speakers)
    return {"mr": misclassification_rate(speakers, labels),
            "ari": adjusted_rand_index(speakers, labels),
            "min_mr_over_cuts": best_mr, "min_mr_clusters": int(best_k),
            "clusters": int(len(set(labels))), "speakers": n_speakers}
