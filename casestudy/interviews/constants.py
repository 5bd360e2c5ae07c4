"""Interview vocabulary the command line needs before any interview module is loaded (a leaf module)."""

# What an imported source text is: a transcript of an interview (with a respondent) or another
# document of the case (minutes, a report, an incident log; no respondent).
SOURCE_KINDS = ("interview", "document")
# Where an interview session stands: recorded, transcribed, checked by the observer (with a note).
SESSION_STATUSES = ("recorded", "transcribed", "checked")
# The two stages of a semi-structured guide: open questions first, then probes.
GUIDE_ITEM_KINDS = ("open", "probe")
# How a coded passage came up: on the respondent's own account, or after the interviewer probed.
ELICITATIONS = ("spontaneous", "probe")
# Formats the interview guide is written in (yaml and csv also import back).
GUIDE_FORMATS = ("yaml", "csv", "markdown", "docx")
GUIDE_IMPORT_FORMATS = ("yaml", "csv")
