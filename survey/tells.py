"""Tells: low-level differences that let a participant tell real from generated images without
judging them (colour where the real images are grey, brightness, sharpness, the file's size).

make_study.py puts every source into one format first (channels, size, equal-length PNG files),
then asks a simple classifier on these statistics to tell each generated source from the real
images: per statistic the best single threshold (the area under its ROC curve), and a logistic
regression on all of them, cross-validated. Above the threshold (AUC 0.75) the study is refused
unless the researcher accepts it knowingly (--accept_tells); the manifest keeps the numbers.
"""

import io as pyio
import struct
import zlib

import numpy as np

FEATURES = ("mean intensity", "contrast", "colourfulness", "sharpness", "extreme pixels", "file size")
MIN_PER_CLASS = 8  # fewer images per source: the check says it could not decide


def features(png):
    """The statistics of one served PNG (bytes)."""
    from PIL import Image

    with Image.open(pyio.BytesIO(png)) as img:
        x = np.asarray(img.convert("RGB"), np.float64)
    grey = x @ np.array([0.299, 0.587, 0.114])
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    colourful = np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())  # Hasler & Suesstrunk
    lap = grey[1:-1, 1:-1] * 4 - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    extreme = np.mean((grey <= 2) | (grey >= 253))
    return np.array([grey.mean(), grey.std(), colourful, lap.var(), extreme, len(png)], np.float64)


def auc(scores, labels):
    """Area under the ROC curve (Mann-Whitney, ties counted half); labels 1 = real."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels, bool)
    pos, neg = scores[labels], scores[~labels]
    if not len(pos) or not len(neg):
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def _logistic(x, y, l2=1.0, iterations=50):
    """Weights of an L2-regularised logistic regression (Newton's method) on standardised x."""
    x1 = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x1.shape[1])
    reg = l2 * np.eye(x1.shape[1])
    reg[-1, -1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(x1 @ w, -30, 30)))
        grad = x1.T @ (p - y) + reg @ w
        hess = (x1 * (p * (1 - p))[:, None]).T @ x1 + reg + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _standardise(train, test):
    mean, std = train.mean(0), train.std(0)
    std[std == 0] = 1.0
    return (train - mean) / std, (test - mean) / std


def cross_validated_auc(x, y, seed=0, folds=5):
    """Out-of-fold AUC of the logistic regression (folds stratified by class)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y, np.float64)
    fold = np.zeros(len(y), int)
    for value in (0.0, 1.0):
        index = rng.permutation(np.flatnonzero(y == value))
        fold[index] = np.arange(len(index)) % folds
    scores = np.zeros(len(y))
    for k in range(folds):
        test = fold == k
        train_x, test_x = _standardise(x[~test], x[test])
        w = _logistic(train_x, y[~test])
        scores[test] = np.hstack([test_x, np.ones((test.sum(), 1))]) @ w
    return auc(scores, y)


def fit_scorer(x, y):
    """P(real | statistics) from the logistic regression fitted on all of x (for choosing tutorial
    images that teach no tell)."""
    x = np.asarray(x, np.float64)
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1.0
    w = _logistic((x - mean) / std, np.asarray(y, np.float64))

    def score(z):
        z = (np.atleast_2d(np.asarray(z, np.float64)) - mean) / std
        return 1.0 / (1.0 + np.exp(-np.clip(np.hstack([z, np.ones((len(z), 1))]) @ w, -30, 30)))

    return score


def auc_low(a, n_pos, n_neg, z=1.96):
    """Lower end of the AUC's normal interval (Hanley & McNeil 1982's standard error)."""
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (n_pos - 1) * (q1 - a * a) + (n_neg - 1) * (q2 - a * a)) / (n_pos * n_neg)
    return float(a - z * np.sqrt(max(var, 0.0)))


def check(stats_by_source, real="real", threshold=0.75, seed=0):
    """{source: (N, len(FEATURES)) statistics} -> the tell report. Per generated source: each
    statistic's AUC (either direction: one threshold, set after seeing the data) and the
    cross-validated logistic regression's AUC (not flipped). A tell is an AUC at the threshold or
    above whose 95 % interval also excludes chance (for the single statistics, Bonferroni over
    them), so that a few images cannot raise a false alarm by noise alone."""
    reals = np.asarray(stats_by_source[real])
    report = {"threshold": threshold, "features": list(FEATURES), "sources": {}, "tells": []}
    z_single = 2.64  # two-sided 95 % over the six statistics (Bonferroni)
    for source, stats in stats_by_source.items():
        if source == real:
            continue
        stats = np.asarray(stats)
        x = np.vstack([stats, reals])
        y = np.r_[np.zeros(len(stats)), np.ones(len(reals))]
        singles = {name: auc(x[:, i], y) for i, name in enumerate(FEATURES)}
        singles = {name: max(a, 1 - a) for name, a in singles.items() if a == a}
        best = max(singles, key=singles.get)
        n_gen, n_real = len(stats), len(reals)
        entry = {"images": int(n_gen), "real_images": int(n_real), "single": singles, "best": best}
        if min(n_gen, n_real) < MIN_PER_CLASS:
            entry.update(checked=False, note=f"fewer than {MIN_PER_CLASS} images of a side: not checked")
            report["sources"][source] = entry
            continue
        cv = cross_validated_auc(x, y, seed=seed, folds=min(5, n_gen, n_real))
        single_low = auc_low(singles[best], n_real, n_gen, z_single)
        cv_low = auc_low(cv, n_real, n_gen)
        entry.update(checked=True, logistic_cv=cv, logistic_low=cv_low, single_low=single_low)
        entry["max_auc"] = max(cv, singles[best])
        found = []
        if singles[best] >= threshold and single_low > 0.5:
            found.append(f"{best} alone {singles[best]:.2f} (95 % from {single_low:.2f})")
        if cv >= threshold and cv_low > 0.5:
            found.append(
                f"a logistic regression on all six {cv:.2f} (cross-validated, 95 % from {cv_low:.2f})"
            )
        if found:
            report["tells"].append(f"{source} vs real: AUC " + " and ".join(found))
        report["sources"][source] = entry
    return report


# ------------------------------------------------------------------ equal-length PNG files
def pad_png(png, length):
    """The PNG with a private ancillary chunk ('plAd', zeros) before IEND so that it is `length`
    bytes long; decoders skip the chunk, the pixels are untouched."""
    extra = length - len(png) - 12  # a chunk: length, type, data, CRC
    if extra < 0:
        raise ValueError(f"cannot pad a {len(png)}-byte PNG to {length}")
    end = png.rfind(b"IEND") - 4
    if end < 8 or png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    data = bytes(extra)
    chunk = struct.pack(">I", extra) + b"plAd" + data + struct.pack(">I", zlib.crc32(b"plAd" + data))
    return png[:end] + chunk + png[end:]


def equal_lengths(pngs):
    """PNG files (bytes) -> the same files padded to one length (the longest's + 12 bytes)."""
    length = max(len(p) for p in pngs) + 12
    return [pad_png(p, length) for p in pngs]
