"""Learned baselines: text (TF-IDF, sentence embedding), prosody and face features.

* **classification**: the model's features of the query views it reads, then a
  multinomial logistic regression (L2, C = 1) trained on the train items; dense
  features are standardised and reduced to at most 64 dimensions by PCA first. The
  prediction is ``scores``: per class seen in train, its log-probability (classes never
  seen in train are left out, i.e. -inf). A train split with a single class gives that
  class probability 1 (the maximum-likelihood fit).
* **mcq**: options are scored by similarity in a learned joint space. Query features
  (the model's featurizer for its views, the default featurizer of ``features`` for the
  others) and answer features are each standardised and reduced to at most 32
  dimensions (PCA, or truncated SVD for TF-IDF); a ridge regression (alpha = 1) maps
  query vectors to their own answer's vector on the train items; an option's score is
  the cosine between the mapped query and the option's vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from empathynet.errors import ConfigError
from empathynet.evaluate.baselines.base import (
    BASELINES,
    Baseline,
    Row,
    TaskData,
    require_items,
    views_of,
)
from empathynet.evaluate.baselines.features import (
    Featurizer,
    FloatMatrix,
    ImageFeatures,
    ProsodyFeatures,
    SentenceEmbedding,
    SideFeatures,
    TfidfText,
)
from empathynet.tasks.spec import TaskSpec

CLASSIFIER_DIMS = 64  #: most dense features fed to the classifier (PCA beyond)
JOINT_DIMS = 32  #: dimensions of each side of the MCQ joint space


class _Dense:
    """A pipeline step that turns a sparse matrix into a dense float array."""

    def fit_transform(self, matrix: Any) -> FloatMatrix:
        return self.transform(matrix)

    def transform(self, matrix: Any) -> FloatMatrix:
        dense = matrix.toarray() if sparse.issparse(matrix) else matrix
        return np.asarray(dense, dtype=np.float64)


class Reducer:
    """Standardise and reduce feature matrices to at most ``max_dims`` per featurizer.

    Sparse matrices: truncated SVD, then standardise; dense ones: standardise, then PCA
    when they have more than ``max_dims`` columns and rows.
    """

    def __init__(self, max_dims: int, seed: int) -> None:
        self.max_dims = max_dims
        self.seed = seed
        self.steps: list[list[Any]] = []

    def fit_transform(self, parts: Sequence[Any]) -> FloatMatrix:
        from sklearn.decomposition import PCA, TruncatedSVD
        from sklearn.preprocessing import StandardScaler

        self.steps = []
        out = []
        for matrix in parts:
            rows, dims = matrix.shape
            steps: list[Any] = []
            k = min(self.max_dims, dims - 1, rows - 1)
            if sparse.issparse(matrix) and k >= 1:
                steps.append(TruncatedSVD(n_components=k, random_state=self.seed))
            steps += [_Dense(), StandardScaler()]
            if not sparse.issparse(matrix) and dims > self.max_dims and rows > self.max_dims:
                steps.append(PCA(n_components=self.max_dims, random_state=self.seed))
            value = matrix
            for step in steps:
                value = step.fit_transform(value)
            self.steps.append(steps)
            out.append(np.asarray(value, dtype=np.float64))
        return np.hstack(out)

    def transform(self, parts: Sequence[Any]) -> FloatMatrix:
        out = []
        for matrix, steps in zip(parts, self.steps, strict=True):
            value = matrix
            for step in steps:
                value = step.transform(value)
            out.append(np.asarray(value, dtype=np.float64))
        return np.hstack(out)


def option_vectors(
    data: TaskData, side: SideFeatures, reducer: Reducer, *, fit: bool
) -> tuple[FloatMatrix, list[list[int]]]:
    """MCQ options as reduced answer features: one row per distinct option cue of
    ``data``, and per item the rows of its options, in slot order. With ``fit``,
    ``side`` and ``reducer`` learn from these options first (the train split)."""
    option_ids, option_cues = data.option_cues()
    ids = list(option_cues)
    values = [option_cues[i] for i in ids]
    if fit:
        side.fit(values)
        vectors = reducer.fit_transform(side.transform(values))
    else:
        vectors = reducer.transform(side.transform(values))
    row_of = {cue_id: r for r, cue_id in enumerate(ids)}
    return vectors, [[row_of[c] for c in options] for options in option_ids]


def log_softmax(logits: FloatMatrix) -> FloatMatrix:
    """Row-wise log-softmax (finite for finite logits)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return np.asarray(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))


class LogisticScores:
    """Multinomial logistic regression giving finite per-class log-probabilities."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.model: Any = None
        self.only: int | None = None

    def fit(self, features: Any, labels: Sequence[int]) -> None:
        from sklearn.linear_model import LogisticRegression

        present = sorted(set(labels))
        if len(present) == 1:
            self.only = present[0]
            return
        self.model = LogisticRegression(C=1.0, max_iter=2000, random_state=self.seed)
        self.model.fit(features, np.asarray(labels))

    @property
    def classes(self) -> list[int]:
        if self.only is not None:
            return [self.only]
        return [int(c) for c in self.model.classes_]

    def log_probabilities(self, features: Any) -> FloatMatrix:
        """``(rows, classes)`` log-probabilities, columns in ``classes`` order."""
        rows = features.shape[0]
        if self.only is not None:
            return np.zeros((rows, 1))
        logits = np.asarray(self.model.decision_function(features), dtype=np.float64)
        if logits.ndim == 1:  # two classes: sklearn gives the logit of the second
            logits = np.column_stack([np.zeros(rows), logits])
        return log_softmax(logits)


class FeatureBaseline(Baseline):
    """A featurizer, then logistic regression (classification) or a joint space (MCQ)."""

    families = ("classification", "mcq")
    featurizer: ClassVar[type[Featurizer]]

    @classmethod
    def check(cls, spec: TaskSpec) -> None:
        super().check(spec)
        seen = list(spec.query_views)
        if spec.family == "mcq":
            seen += list(spec.answer_views)
        if not views_of(seen, cls.featurizer.handles):
            raise ConfigError(
                f"baseline {cls.name} reads {'/'.join(cls.featurizer.handles)}; task "
                f"{spec.name} shows {'+'.join(seen)}"
            )

    def fit(self, train: TaskData) -> None:
        require_items(train, 2 if train.family == "mcq" else 1)
        if train.family == "classification":
            self._fit_classifier(train)
        else:
            self._fit_joint(train)

    def predict(self, data: TaskData) -> list[Row]:
        if data.family == "classification":
            return self._predict_classes(data)
        return self._predict_options(data)

    # classification
    def _fit_classifier(self, train: TaskData) -> None:
        self.side = SideFeatures(train.root, train.query_views, self.featurizer, defaults=False)
        self.views_used = self.side.views
        cues = train.query_cues()
        self.side.fit(cues)
        parts = self.side.transform(cues)
        self.direct = len(parts) == 1 and sparse.issparse(parts[0])
        self.reducer = Reducer(CLASSIFIER_DIMS, self.seed)
        features = parts[0] if self.direct else self.reducer.fit_transform(parts)
        self.scorer = LogisticScores(self.seed)
        self.scorer.fit(features, [int(v) for v in train.column("label_index")])

    def _predict_classes(self, data: TaskData) -> list[Row]:
        parts = self.side.transform(data.query_cues())
        features = parts[0] if self.direct else self.reducer.transform(parts)
        logp = self.scorer.log_probabilities(features)
        names = [data.classes[c] for c in self.scorer.classes]
        return [
            {"item_id": item, "scores": {n: float(v) for n, v in zip(names, row, strict=True)}}
            for item, row in zip(data.item_ids(), logp, strict=True)
        ]

    # multiple choice
    def _fit_joint(self, train: TaskData) -> None:
        from sklearn.linear_model import Ridge

        own = self.featurizer
        self.query_side = SideFeatures(train.root, train.query_views, own, defaults=True)
        self.answer_side = SideFeatures(train.root, train.answer_views, own, defaults=True)
        for side, name in ((self.query_side, "query"), (self.answer_side, "answer")):
            if not side.parts:
                raise ConfigError(
                    f"baseline {self.name}: no features for the {name} views "
                    f"{'+'.join(side.skipped)} of task {train.name}"
                )
        self.views_used = self.query_side.views + self.answer_side.views
        queries = train.query_cues()
        self.query_side.fit(queries)
        self.query_reducer = Reducer(JOINT_DIMS, self.seed)
        self.answer_reducer = Reducer(JOINT_DIMS, self.seed)
        query_vectors = self.query_reducer.fit_transform(self.query_side.transform(queries))
        vectors, index = option_vectors(train, self.answer_side, self.answer_reducer, fit=True)
        answers = [rows[a] for rows, a in zip(index, train.answer_index().tolist(), strict=True)]
        self.mapping = Ridge(alpha=1.0).fit(query_vectors, vectors[answers])

    def _predict_options(self, data: TaskData) -> list[Row]:
        queries = self.query_reducer.transform(self.query_side.transform(data.query_cues()))
        mapped = np.asarray(self.mapping.predict(queries), dtype=np.float64)
        vectors, index = option_vectors(data, self.answer_side, self.answer_reducer, fit=False)
        rows = []
        for item, target, options in zip(data.item_ids(), mapped, index, strict=True):
            candidates = vectors[options]
            scores = cosine(target, candidates)
            rows.append({"item_id": item, "scores": [float(s) for s in scores]})
        return rows


def cosine(vector: FloatMatrix, matrix: FloatMatrix) -> FloatMatrix:
    """Cosine similarity of ``vector`` with each row of ``matrix`` (0 for zero vectors)."""
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector)
    dots = matrix @ vector
    return np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)


@BASELINES.register("text-tfidf")
class TfidfBaseline(FeatureBaseline):
    name = "text-tfidf"
    featurizer = TfidfText
    summary = "TF-IDF of the sentence and sound tags + logistic regression / joint space"


@BASELINES.register("text-embedding")
class EmbeddingBaseline(FeatureBaseline):
    name = "text-embedding"
    featurizer = SentenceEmbedding
    summary = "all-MiniLM-L6-v2 sentence embedding + logistic regression / joint space"


@BASELINES.register("prosody")
class ProsodyBaseline(FeatureBaseline):
    name = "prosody"
    featurizer = ProsodyFeatures
    summary = "F0, level, voicing and rate of the audio + logistic regression / joint space"


@BASELINES.register("face")
class FaceBaseline(FeatureBaseline):
    name = "face"
    featurizer = ImageFeatures
    summary = "thumbnail, gradient and colour features of the stills + logistic regression"
