"""fairclust: deep fair clustering (DFC, CVPR 2020), its baselines, datasets and metrics."""

from .errors import FairclustError
from .methods.dfc import DeepFairClustering

__version__ = "0.1.0"
__all__ = ["DeepFairClustering", "FairclustError", "__version__"]
