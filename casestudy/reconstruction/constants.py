"""Member-check vocabulary that the command line needs before the stage modules are loaded (a leaf module)."""

# Where respondents' member-check links point unless told otherwise (re-exported by
# casestudy.reconstruction.membercheck).
DEFAULT_BASE_URL = "http://127.0.0.1:8501"
