"""What the sequence transformers share with scikit-learn's output API."""

from __future__ import annotations


class SequenceOutputMixin:
    """``set_output`` for transformers whose output is 3-D sequences.

    The class must be declared with ``auto_wrap_output_keys=None``, so that
    scikit-learn does not wrap ``transform`` to make DataFrames.
    """

    def set_output(self, *, transform=None):
        """Accept scikit-learn's output setting; sequences stay arrays.

        ``set_output`` and ``sklearn.set_config(transform_output=...)`` turn
        2-D outputs into DataFrames; 3-D sequences have no DataFrame form, so
        ``transform`` returns what it always does, under any setting, and a
        ``Pipeline`` with this step takes ``set_output`` as usual.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            Checked, and otherwise without effect.

        Returns
        -------
        self : object
            This transformer.
        """
        if transform not in (None, "default", "pandas", "polars"):
            raise ValueError(
                "transform must be None, 'default', 'pandas' or 'polars'; got "
                f"{transform!r}."
            )
        return self
