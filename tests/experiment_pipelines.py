"""A small iris sweep for the experiments pages' tests: real scikit-learn models and metrics.

``iris_sweep`` fits an SGD classifier for a few epochs (a ``loss`` curve by step), scores it
(final ``accuracy`` and ``log_loss``) and logs per-setting sweep metrics
(``val_accuracy/alpha…``), so the pages have params that vary, curves and a sweep group.
"""

from __future__ import annotations

from django_mlops import Pipeline, log_metric, log_metrics

iris_sweep = Pipeline(
    "iris_sweep",
    description="SGD on iris over alpha, for the experiments pages",
    params={"alpha": 0.001, "epochs": 5, "penalty": "l2", "seed": 0},
)


@iris_sweep.node(outputs="split")
def load():
    """Iris, split in train and test."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    x, y = load_iris(return_X_y=True)
    return train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)


@iris_sweep.node(
    inputs=["split", "params:alpha", "params:epochs", "params:penalty", "params:seed"],
    outputs="model",
)
def fit(split, alpha, epochs, penalty, seed):
    """Fit SGD epoch by epoch, logging the training loss at each step."""
    import numpy as np
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import log_loss

    x_train, _, y_train, _ = split
    model = SGDClassifier(loss="log_loss", alpha=alpha, penalty=penalty, random_state=seed)
    classes = np.unique(y_train)
    for epoch in range(epochs):
        model.partial_fit(x_train, y_train, classes=classes)
        log_metric("loss", float(log_loss(y_train, model.predict_proba(x_train))), step=epoch)
    return model


@iris_sweep.node(inputs=["split", "model", "params:alpha"], outputs="scores")
def evaluate(split, model, alpha):
    """Score on the test rows; the sweep metric names its setting."""
    from sklearn.metrics import accuracy_score, log_loss

    _, x_test, _, y_test = split
    accuracy = float(accuracy_score(y_test, model.predict(x_test)))
    scores = {
        "accuracy": accuracy,
        "log_loss": float(log_loss(y_test, model.predict_proba(x_test))),
    }
    log_metrics(scores)
    log_metric(f"val_accuracy/alpha{alpha:g}", accuracy)
    return scores
