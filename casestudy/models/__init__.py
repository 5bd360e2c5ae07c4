"""All tables. Each stage of the chain adds its own module here and imports it below."""

from .base import Base, utcnow  # noqa: F401
from .core import *  # noqa: F401,F403
from .interviews import *  # noqa: F401,F403
from .codebook import *  # noqa: F401,F403
from .coding import *  # noqa: F401,F403
from .masking import *  # noqa: F401,F403
from .panel import *  # noqa: F401,F403
from .reports import *  # noqa: F401,F403
from .membercheck import *  # noqa: F401,F403
