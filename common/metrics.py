"""The metrics. Toy (2-d): a generated point is assigned to its nearest reference point
(mixture centre, or a point of the swiss-roll curve); it is "high quality" (HQ) when that distance
is below 3 sigma, the convention of VEEGAN and PacGAN. `nn_distance` is DesIGN's creativity score
and works on any array of samples (images are flattened)."""

import numpy as np


def nearest_neighbours(points, references, budget=2**22):
    """For each row of `points`, the index of and Euclidean distance to its nearest reference.

    Low-dimensional data (the 2-d toys) goes through a k-d tree; high-dimensional data (images)
    through exact brute force in chunks of rows: each chunk's squared distances come from one
    float32 matrix product (|a|^2 - 2 a.b + |b|^2, a block below `budget` entries), and the
    distance to the nearest is then computed directly in float64. Nothing the size of the
    references is copied (a 20,000-image pool in float64 cost 125 MB more, its blocks 200 MB)."""
    points = np.asarray(points).reshape(len(points), -1)
    references = np.asarray(references).reshape(len(references), -1)
    if points.shape[1] <= 8:
        from scipy.spatial import cKDTree

        dist, index = cKDTree(np.asarray(references, np.float64)).query(np.asarray(points, np.float64), k=1)
        return index.astype(np.int64), dist
    exact = references  # distances are measured on the inputs as given
    references = references.astype(np.float32, copy=False)
    chunk = max(1, budget // max(len(references), 1))
    ref_sq = np.einsum("ij,ij->i", references, references, dtype=np.float64).astype(np.float32)
    index = np.empty(len(points), np.int64)
    dist = np.empty(len(points), np.float64)
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk].astype(np.float32, copy=False)
        d2 = block @ references.T
        d2 *= -2.0
        d2 += ref_sq
        best = np.argmin(d2, axis=1)  # |a|^2 is the same along a row: not needed to rank
        index[start : start + chunk] = best
        diff = points[start : start + chunk].astype(np.float64) - exact[best].astype(np.float64)
        dist[start : start + chunk] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    return index, dist


def assign_modes(samples, spec):
    """Nearest class (over all classes, removed ones included) and distance for each sample."""
    index, dist = nearest_neighbours(samples, spec.references)
    return spec.reference_labels[index], dist


def hq_fraction(samples, spec):
    """Fraction of samples within 3 sigma of some reference point (any class)."""
    _, dist = assign_modes(samples, spec)
    return float(np.mean(dist < 3.0 * spec.sigma))


def mode_counts(samples, spec):
    """Number of HQ samples per class, shape (num_classes,)."""
    labels, dist = assign_modes(samples, spec)
    return np.bincount(labels[dist < 3.0 * spec.sigma], minlength=spec.num_classes)


def present_classes(spec, missing=()):
    return [c for c in range(spec.num_classes) if c not in set(missing)]


def modes_captured(samples, spec, missing=()):
    """Classes present in training with at least one HQ sample."""
    counts = mode_counts(samples, spec)
    return int(sum(counts[c] > 0 for c in present_classes(spec, missing)))


def missing_mode_hits(samples, spec, missing):
    """Fraction of samples within 3 sigma of a removed class: did anything land where the
    model was never shown data? 0.0 when nothing was removed."""
    if not missing:
        return 0.0
    labels, dist = assign_modes(samples, spec)
    return float(np.mean((dist < 3.0 * spec.sigma) & np.isin(labels, missing)))


def mode_kl(samples, spec, missing=()):
    """KL(generated mode histogram || uniform over present modes), in nats; 0 is perfectly
    balanced, log(K) is everything in one mode. Each sample counts for its nearest present mode."""
    present = present_classes(spec, missing)
    mask = np.isin(spec.reference_labels, present)
    index, _ = nearest_neighbours(samples, spec.references[mask])
    labels = spec.reference_labels[mask][index]
    p = np.array([np.mean(labels == c) for c in present])
    nonzero = p > 0
    return float(np.sum(p[nonzero] * np.log(p[nonzero] * len(present))))


def nn_distance(samples, train):
    """Mean distance from each sample to its nearest training example (DesIGN's creativity
    score). Report it beside the same number for held-out real data: much smaller means copies,
    much larger means off the data."""
    _, dist = nearest_neighbours(samples, train)
    return float(np.mean(dist))


def toy_metrics(samples, spec, missing, train, heldout):
    """All toy metrics of one set of generated samples, as flat metrics.json keys."""
    counts = mode_counts(samples, spec)
    metrics = {
        "num_samples": int(len(samples)),
        "modes_captured": modes_captured(samples, spec, missing),
        "modes_present": len(present_classes(spec, missing)),
        "hq_fraction": hq_fraction(samples, spec),
        "missing_mode_hits": missing_mode_hits(samples, spec, missing),
        "mode_kl": mode_kl(samples, spec, missing),
        "nn_distance": nn_distance(samples, train),
        "nn_distance_heldout_real": nn_distance(heldout, train),
    }
    for c in range(spec.num_classes):
        metrics[f"hq_count_mode_{c}"] = int(counts[c])
    return metrics


def conditional_metrics(samples, labels, spec, missing=()):
    """For a conditional generator: per label, the fraction of its samples within 3 sigma of its
    own class (`label_<c>_on_own_mode`); for a removed label, where its samples land
    (`removed_label_<c>_on_mode_<k>` for each k, and `removed_label_<c>_off_modes`)."""
    nearest, dist = assign_modes(samples, spec)
    hq = dist < 3.0 * spec.sigma
    out = {}
    own = []
    for c in range(spec.num_classes):
        mine = labels == c
        if not mine.any():
            continue
        fraction = float(np.mean(hq[mine] & (nearest[mine] == c)))
        out[f"label_{c}_on_own_mode"] = fraction
        if c in missing:
            for k in range(spec.num_classes):
                out[f"removed_label_{c}_on_mode_{k}"] = float(np.mean(hq[mine] & (nearest[mine] == k)))
            out[f"removed_label_{c}_off_modes"] = float(np.mean(~hq[mine]))
        else:
            own.append(fraction)
    out["present_labels_on_own_mode"] = float(np.mean(own)) if own else float("nan")
    return out


# ----------------------------------------------------------------------------- image metrics
# On the judge's class probabilities `probs` (N, K) and penultimate features (N, D).
def class_histogram(probs):
    """Fraction of samples whose most likely class is c, for every class c; shape (K,)."""
    probs = np.asarray(probs)
    return np.bincount(np.argmax(probs, axis=1), minlength=probs.shape[1]) / max(len(probs), 1)


def removed_class_mask(probs, removed, confidence=0.5):
    """Per sample: does the judge put it in a removed class with probability above `confidence`
    (0.5: that class is more likely than all others together)?"""
    probs = np.asarray(probs)
    return np.isin(np.argmax(probs, axis=1), removed) & (np.max(probs, axis=1) > confidence)


def removed_class_hits(probs, removed, confidence=0.5):
    """Fraction of samples confidently judged as a removed class (removed_class_mask); 0.0 when
    nothing was removed."""
    if not removed or len(probs) == 0:
        return 0.0
    return float(np.mean(removed_class_mask(probs, removed, confidence)))


def classifier_score(probs, eps=1e-12):
    """exp(E_x KL(p(y|x) || p(y))): the Inception-score analogue under the judge. 1 when every
    sample gets the same prediction; K when predictions are confident and classes balanced."""
    probs = np.asarray(probs, np.float64)
    marginal = probs.mean(axis=0, keepdims=True)
    kl = np.sum(probs * (np.log(probs + eps) - np.log(marginal + eps)), axis=1)
    return float(np.exp(np.mean(kl)))


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two feature sets:
    |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)), as TF-GAN's frechet_classifier_distance.
    NaN (undefined, not an error) when a set has fewer than two rows or a value is not finite."""
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    if min(len(a), len(b)) < 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        return float("nan")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    # Tr (S_a S_b)^(1/2) = sum of sqrt(eigenvalues of S_a^(1/2) S_b S_a^(1/2)), a symmetric PSD
    # matrix: stable where sqrtm of the non-symmetric product struggles (singular covariances
    # from dead ReLU features).
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.maximum(w, 0.0))) @ v.T
    trace_root = np.sum(np.sqrt(np.maximum(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0.0)))
    value = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_root
    return float(max(value, 0.0))


def _pairwise_distances(a, b):
    sq_a, sq_b = np.sum(a**2, axis=1), np.sum(b**2, axis=1)
    return np.sqrt(np.maximum(sq_a[:, None] - 2.0 * a @ b.T + sq_b[None, :], 0.0))


def precision_recall(generated_features, real_features, k=3, max_samples=2000):
    """Improved precision and recall (Kynkäänniemi et al. 2019) in a feature space: each set's
    manifold is the union of balls reaching every sample's k-th nearest neighbour in its own set.
    precision: fraction of generated samples inside the real manifold (are they realistic?);
    recall: fraction of real samples inside the generated manifold (is the data covered?). A
    collapsed generator can score high precision with low recall; FJD mixes the two."""
    gen = np.asarray(generated_features, np.float64).reshape(len(generated_features), -1)[:max_samples]
    real = np.asarray(real_features, np.float64).reshape(len(real_features), -1)[:max_samples]

    def radii(x):  # distance to the k-th nearest other sample (column 0 of the sort is the sample itself)
        return np.sort(_pairwise_distances(x, x), axis=1)[:, min(k, len(x) - 1)]

    between = _pairwise_distances(gen, real)  # (generated, real)
    precision = np.mean(np.any(between <= radii(real)[None, :], axis=1))
    recall = np.mean(np.any(between.T <= radii(gen)[None, :], axis=1))
    return float(precision), float(recall)


def realistic(generated_features, real_features, k=3, max_samples=2000):
    """Per generated sample: whether it lies inside the real data's manifold in a feature space
    (improved precision's membership, Kynkäänniemi et al. 2019: within the k-th-nearest-neighbour
    ball of some real sample). Its mean is `precision`."""
    gen = np.asarray(generated_features, np.float64).reshape(len(generated_features), -1)
    real = np.asarray(real_features, np.float64).reshape(len(real_features), -1)[:max_samples]
    radii = np.sort(_pairwise_distances(real, real), axis=1)[:, min(k, len(real) - 1)]
    return np.any(_pairwise_distances(gen, real) <= radii[None, :], axis=1)


def coverage(generated_features, real_features, k=5, max_samples=2000):
    """Coverage (Naeem et al. 2020): the fraction of real samples whose k-nearest-neighbour ball
    (among the real samples) holds at least one generated sample. Unlike recall it is built on the
    real samples' balls only, so outlying generations — noise — cannot inflate it."""
    gen = np.asarray(generated_features, np.float64).reshape(len(generated_features), -1)[:max_samples]
    real = np.asarray(real_features, np.float64).reshape(len(real_features), -1)[:max_samples]
    radii = np.sort(_pairwise_distances(real, real), axis=1)[:, min(k, len(real) - 1)]
    return float(np.mean(np.any(_pairwise_distances(real, gen) <= radii[:, None], axis=1)))


def saturated_fraction(images):
    """Share of pixel values (images in [0, 1]) at the ends of an 8-bit range: <= 1/255 or >=
    254/255 (Ahn et al.'s failure: outputs of 0 or 255 only)."""
    x = np.asarray(images, np.float64)
    return float(np.mean((x <= 1 / 255) | (x >= 254 / 255)))


def foreground_saturated_fraction(images, margin=0.1):
    """saturated_fraction over each image's foreground only: the pixels farther than `margin`
    (in [0, 1], any channel) from the image's background colour, the median of its border pixels.
    A black background is not a saturated output: real Fashion-MNIST images are ~44 % exact
    zeros, so counting it would make real images look saturated. Images with no foreground
    count as fully saturated (a blank image is the failure itself)."""
    x = np.asarray(images, np.float64)
    border = np.concatenate([x[:, 0], x[:, -1], x[:, :, 0], x[:, :, -1]], axis=1)  # (N, 4 side, C)
    background = np.median(border, axis=1)[:, None, None, :]
    foreground = np.any(np.abs(x - background) > margin, axis=-1)  # (N, H, W)
    saturated = np.all((x <= 1 / 255) | (x >= 254 / 255), axis=-1)
    shares = [
        float(np.mean(saturated[i][foreground[i]])) if foreground[i].any() else 1.0 for i in range(len(x))
    ]
    return float(np.mean(shares)) if shares else 0.0


def copy_rate(generations, shots, real, quantile=0.05):
    """Data copying of the shots, in a way that does not depend on how many real images there
    are: the fraction of generations nearer to their nearest shot than the `quantile` of the
    real images' distances to their nearest shot. Real images of the class (never trained on)
    set the scale of "near"; a generator that draws new members of the class the way real images
    are drawn scores about `quantile`, one that reproduces its shots close to 1. (The old
    copy_fraction, nearer than the single nearest real image, falls as real images are added.)"""
    _, generated_to_shot = nearest_neighbours(generations, shots)
    _, real_to_shot = nearest_neighbours(real, shots)
    return _copy_rate(generated_to_shot, real_to_shot, quantile)


def _copy_rate(generated_to_shot, real_to_shot, quantile=0.05):
    return float(np.mean(generated_to_shot < np.quantile(real_to_shot, quantile)))


def mean_pairwise_distance(samples, max_samples=500):
    """Mean Euclidean distance between distinct pairs (a diversity score), on up to
    `max_samples` samples."""
    x = np.asarray(samples, np.float64).reshape(len(samples), -1)[:max_samples]
    if len(x) < 2:
        return 0.0
    sq = np.sum(x**2, axis=1)
    d2 = np.maximum(sq[:, None] - 2.0 * x @ x.T + sq[None, :], 0.0)
    n = len(x)
    return float(np.sum(np.sqrt(d2)) / (n * (n - 1)))


def shot_metrics(generations, shots, real, predicted=None, target=None, features=None):
    """Few-shot generations of one class set beside real images of that class never trained on.

    nn_distance: mean distance from a generation to its nearest shot; real_nn_distance_mean/min:
    the same for the real images, whose smallest value is how near a genuinely different image of
    the class comes to a shot; copy_fraction: generations nearer to a shot than that (copies);
    diversity / real_diversity: mean pairwise distance among generations / among the real images.
    With the judge's predicted classes and the target class: judge_accuracy.

    Pixel distances favour blur (a blurred image sits near everything and its pairwise spread is
    small), so with `features` = (generation, shot, real) judge features the same numbers are
    also given in the judge's feature space, as feature_*: there a blurred mean and a sharp
    sample of the same digit are measured by what the judge sees in them."""
    out = _shot_distances(generations, shots, real)
    if features is not None:
        out.update({f"feature_{k}": v for k, v in _shot_distances(*features).items()})
    if predicted is not None:
        out["judge_accuracy"] = float(np.mean(np.asarray(predicted) == np.asarray(target)))
    return out


def _shot_distances(generations, shots, real):
    _, generated_to_shot = nearest_neighbours(generations, shots)
    _, real_to_shot = nearest_neighbours(real, shots)
    return {
        "nn_distance": float(np.mean(generated_to_shot)),
        "real_nn_distance_mean": float(np.mean(real_to_shot)),
        "real_nn_distance_min": float(np.min(real_to_shot)),
        "copy_fraction": float(np.mean(generated_to_shot < np.min(real_to_shot))),
        "copy_rate": _copy_rate(generated_to_shot, real_to_shot),
        "diversity": mean_pairwise_distance(generations),
        "real_diversity": mean_pairwise_distance(real),
    }
