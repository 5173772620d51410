"""The judge ensemble for the report: every judged number of a finding is graded again from the
images its run saved, by three judges trained with different seeds (seed 0 is each run's own),
and the judges are validated on the page.

Validation per data set: per-class precision and recall on the held-out test images, and for
each class a finding asks about, the judge's false-positive rate — real test images of the
*other* classes judged that class, as they are and blurred, binarised or noisy (the kinds of
images the runs produce: decoder means are blurry, samples are binary, GAN outputs noisy). A hit
rate below that floor is the judge's noise, not a finding.
"""

import numpy as np

from common import metrics

MEMBERS = 3
DEGRADATIONS = ("as they are", "blurred", "binarised", "noisy")


def degrade(images, how, seed=0):
    """Real images in [0, 1], (N, H, W, C), made to look like the runs' outputs."""
    x = np.asarray(images, np.float32)
    if how == "blurred":  # a 3x3 box blur, twice: about what a decoder's mean does to an edge
        for _ in range(2):
            padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
            x = (
                sum(padded[:, i : i + x.shape[1], j : j + x.shape[2]] for i in range(3) for j in range(3))
                / 9.0
            )
        return x
    if how == "binarised":
        return (x > 0.5).astype(np.float32)
    if how == "noisy":
        rng = np.random.default_rng(seed)
        return np.clip(x + rng.normal(0.0, 0.2, x.shape), 0.0, 1.0).astype(np.float32)
    return x


class Grader:
    """The judges of the data sets the report needs, loaded (or trained once and cached) on
    first use; `log` gets their lines."""

    def __init__(self, log=print, members=MEMBERS):
        self.log, self.members = log, members
        self._judges, self._data = {}, {}

    def data(self, name):
        if name not in self._data:
            from common.image_data import load_image_data

            self._data[name] = load_image_data(name)
        return self._data[name]

    def judges(self, name):
        if name not in self._judges:
            from common import judge as judge_lib

            self._judges[name] = judge_lib.load_ensemble(
                self.data(name), self.members, log=self.log, remember=True
            )
        return self._judges[name]

    def real(self, name, cls, limit=1000):
        """Test images of class `cls` in [0, 1] (never trained on by any run)."""
        from common.pipelines import to_float

        data = self.data(name)
        return to_float(data.test_x[data.test_y == cls][:limit])

    # ---------------------------------------------------------------------- per image set
    def class_rate(self, name, images, cls, confident=True):
        """[rate per judge] of images judged class `cls` (confident: with probability > 0.5, the
        runs' removed_class_hits; else the judge's top class)."""
        out = []
        for judge in self.judges(name):
            probs = judge.probabilities(images)
            hit = np.argmax(probs, axis=1) == cls
            if confident:
                hit &= np.max(probs, axis=1) > 0.5
            out.append(float(np.mean(hit)))
        return out

    def majority_codes(self, name, samples, codes, cls):
        """[number of codes whose majority class is `cls`, per judge]."""
        out = []
        for judge in self.judges(name):
            predicted = np.argmax(judge.probabilities(samples), axis=1)
            out.append(
                sum(
                    int(np.bincount(predicted[codes == c], minlength=judge.num_classes).argmax() == cls)
                    for c in np.unique(codes)
                )
            )
        return out

    def few_shot(self, name, generations, shots, cls):
        """Per judge: {judged: rate of generations judged `cls` (top class), copies: copy rate of
        the shots in judge features (metrics.copy_rate), diversity and real_diversity: mean
        pairwise distance of the generations' and of real images' judge features}."""
        real = self.real(name, cls)
        out = []
        for judge in self.judges(name):
            probs, features = judge.outputs(generations)
            shot_features, real_features = judge.features(shots), judge.features(real)
            out.append(
                {
                    "judged": float(np.mean(np.argmax(probs, axis=1) == cls)),
                    "copies": metrics.copy_rate(features, shot_features, real_features),
                    "diversity": metrics.mean_pairwise_distance(features),
                    "real_diversity": metrics.mean_pairwise_distance(real_features),
                }
            )
        return out

    # ------------------------------------------------------------------------- validation
    def validation(self, name, classes):
        """Per-class precision and recall of every judge on the test set, and the false-positive
        floor of each class in `classes` (its largest rate over the degradations), per judge."""
        from common.pipelines import to_float

        data = self.data(name)
        x = to_float(data.test_x)
        rows = {"accuracy": [], "precision": {}, "recall": {}, "false_positives": {}}
        for judge in self.judges(name):
            predicted = np.argmax(judge.probabilities(x), axis=1)
            rows["accuracy"].append(float(np.mean(predicted == data.test_y)))
            for c in range(data.num_classes):
                chosen, actual = predicted == c, data.test_y == c
                rows["precision"].setdefault(c, []).append(
                    float(np.mean(actual[chosen])) if chosen.any() else 0.0
                )
                rows["recall"].setdefault(c, []).append(
                    float(np.mean(chosen[actual])) if actual.any() else 0.0
                )
            for c in classes:
                others = x[data.test_y != c][:2000]
                rates = {how: self_rate(judge, degrade(others, how), c) for how in DEGRADATIONS}
                rows["false_positives"].setdefault(c, []).append(rates)
        return rows


def self_rate(judge, images, cls):
    probs = judge.probabilities(images)
    return float(np.mean((np.argmax(probs, axis=1) == cls) & (np.max(probs, axis=1) > 0.5)))


def floor(validation, cls):
    """The false-positive floor of class `cls`: the largest rate any judge gives it on real
    images of other classes, over the degradations."""
    return max(max(rates.values()) for rates in validation["false_positives"].get(cls, [{"": 0.0}]))
