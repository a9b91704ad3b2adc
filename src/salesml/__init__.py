"""salesml: predictive sales research against rule-based baselines.

Importing the package is cheap: submodules load their heavy dependencies
(pandas, scikit-learn, MLflow) only when imported.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
