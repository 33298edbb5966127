"""``python -m fairclust`` (also what ``torchrun -m fairclust`` runs)."""

import sys

from .cli import main

sys.exit(main())
