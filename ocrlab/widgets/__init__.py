"""Interactive views for JupyterLab (ipywidgets). Each widget is a thin view over a pure function that the
tests call directly; nothing in ``ocrlab.train``, ``ocrlab.data`` or ``ocrlab.models`` imports this package."""
from .kernels import KernelExplorer
from .output_size import OutputSizeCalculator
from .pooling import PoolingExplorer
from .activations import ActivationExplorer
from .feature_maps import FeatureMapExplorer
from .attention import AttentionExplorer
from .deformable import DeformableExplorer
