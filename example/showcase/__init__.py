"""The demo's app: example pipelines on scikit-learn's bundled datasets."""
