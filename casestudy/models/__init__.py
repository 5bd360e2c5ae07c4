"""All tables. Each stage of the chain adds its own module here and imports it below."""

from casestudy.models.base import Base, utcnow  # noqa: F401
from casestudy.models.audits import *  # noqa: F401,F403
from casestudy.models.codebook import *  # noqa: F401,F403
from casestudy.models.coding import *  # noqa: F401,F403
from casestudy.models.core import *  # noqa: F401,F403
from casestudy.models.interviews import *  # noqa: F401,F403
from casestudy.models.masking import *  # noqa: F401,F403
from casestudy.models.membercheck import *  # noqa: F401,F403
from casestudy.models.outcomes import *  # noqa: F401,F403
from casestudy.models.panel import *  # noqa: F401,F403
from casestudy.models.periods import *  # noqa: F401,F403
from casestudy.models.reports import *  # noqa: F401,F403
from casestudy.models.rigour import *  # noqa: F401,F403
from casestudy.models.web import *  # noqa: F401,F403
