"""How the course's widgets appear in a notebook: live in JupyterLab, and as a picture everywhere else.

A widget stored in a notebook is only a reference to a live kernel object; GitHub, nbviewer and JupyterLab before
the notebook runs cannot draw it. Each explorer therefore displays one output that carries both the live widget
and a PNG of its current view (``image/png``): front ends that run widgets show the widget, the others the picture.
"""
from __future__ import annotations

import base64


class Explorer:
    """Mixin for the explorers: ``ui`` is the whole widget, ``image`` its main picture (an ``ipywidgets.Image``)."""

    def snapshot(self) -> bytes:
        """PNG bytes of what the explorer shows now (its main picture)."""
        return self.image.value

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = dict(self.ui._repr_mimebundle_(include=include, exclude=exclude))
        bundle["text/plain"] = (f"{type(self).__name__} (an interactive widget: run the notebook to use it; "
                                "the picture shows its state when the notebook was stored)")
        png = self.snapshot()
        if png:
            bundle["image/png"] = base64.b64encode(png).decode("ascii")
        return bundle
